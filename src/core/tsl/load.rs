//! Reads a TSL file (the thing model JSON the console exports, or the `data` of a
//! `thing/dsltemplate/get_reply`) strictly, with serde: any error names its line and column.
//!
//! Leniencies the TSL reference recommends: unknown keys are ignored, `inputData` entries may be
//! bare identifiers, numbers in `specs` may be strings (as exported) or numbers, and the default
//! `post` event and `set`/`get` services are not read (property posts, sets and gets are checked
//! against the properties themselves).

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

use super::model::{
    Access, DataType, Event, Module, Num, NumKind, Param, ProductModel, Property, Range, Service,
    Source,
};

/// A file larger than this is not read: a thing model of the platform's largest size is far
/// smaller (reading a huge file on every capture open would stall Wireshark).
pub const MAX_FILE_BYTES: u64 = 16 << 20;

/// What is wrong with a file, and where (1-based; 0 when the whole file is meant).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.line > 0 {
            write!(
                f,
                "line {} column {}: {}",
                self.line, self.column, self.message
            )
        } else {
            f.write_str(&self.message)
        }
    }
}

impl From<serde_json::Error> for LoadError {
    fn from(e: serde_json::Error) -> LoadError {
        // serde_json's message ends with " at line L column C"; it is said once, in front.
        let text = e.to_string();
        let message = match text.rfind(" at line ") {
            Some(at) if e.line() > 0 => text[..at].to_string(),
            _ => text,
        };
        LoadError {
            line: e.line(),
            column: e.column(),
            message,
        }
    }
}

/// A file read: a product's default module or one of its custom modules.
#[derive(Debug, Clone, PartialEq)]
pub struct TslFile {
    pub product_key: Box<str>,
    pub module: Module,
}

impl TslFile {
    /// A product model with this file as its only module.
    pub fn into_product(self, source: Source) -> ProductModel {
        let mut p = ProductModel {
            product_key: self.product_key,
            default: Module::default(),
            custom: Vec::new(),
            source,
        };
        if self.module.id.is_some() {
            p.add_module(self.module);
        } else {
            p.default = self.module;
        }
        p
    }
}

/// Reads one TSL document.
pub fn parse(bytes: &[u8]) -> Result<TslFile, LoadError> {
    // A thing model is an object (serde would read an array into the struct, member by member).
    let text = bytes.strip_prefix("\u{feff}".as_bytes()).unwrap_or(bytes);
    if let Some(at) = text.iter().position(|b| !b.is_ascii_whitespace()) {
        if text[at] != b'{' {
            let line = 1 + text[..at].iter().filter(|b| **b == b'\n').count();
            let column = at
                - text[..at]
                    .iter()
                    .rposition(|b| *b == b'\n')
                    .map_or(0, |n| n + 1)
                + 1;
            return Err(LoadError {
                line,
                column,
                message: "not a thing model: a JSON object was expected".into(),
            });
        }
    }
    let raw: RawFile = serde_json::from_slice(text)?;
    let whole = |message: String| LoadError {
        line: 0,
        column: 0,
        message,
    };
    let product_key = raw
        .profile
        .and_then(|p| p.product_key)
        .filter(|pk| !pk.is_empty())
        .ok_or_else(|| whole("not a thing model: no profile.productKey".into()))?;
    let module_id = raw.function_block_id.filter(|id| !id.is_empty());
    if let Some(id) = &module_id {
        if id.len() > 30 || !id.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
            return Err(whole(format!(
                "functionBlockId \"{id}\" is not 1 to 30 letters, digits or _"
            )));
        }
    }
    let mut properties = Vec::new();
    for p in raw.properties.0 {
        let Some(dt) = p.data_type else {
            return Err(whole(format!(
                "property \"{}\" has no dataType",
                p.identifier
            )));
        };
        let access = match p.access_mode.as_deref() {
            Some("r") => Access::ReadOnly,
            Some("w") => Access::WriteOnly,
            _ => Access::ReadWrite,
        };
        properties.push(Property {
            param: Param {
                name: p.name.unwrap_or_else(|| p.identifier.clone()).into(),
                identifier: p.identifier.into(),
                data_type: dt.0,
            },
            access,
        });
    }
    let params = |list: Vec<RawParam>, what: &str| -> Result<Vec<Param>, LoadError> {
        list.into_iter().map(|p| p.into_param(what)).collect()
    };
    let mut events = Vec::new();
    for e in raw.events.0 {
        // The default `post` event is the property post (checked against the properties).
        if e.identifier == "post" && module_id.is_none() {
            continue;
        }
        let what = format!("event \"{}\"", e.identifier);
        events.push(Event {
            name: e.name.unwrap_or_else(|| e.identifier.clone()).into(),
            kind: e.kind.unwrap_or_else(|| "info".into()).into(),
            outputs: params(e.output_data.0, &what)?,
            identifier: e.identifier.into(),
        });
    }
    let mut services = Vec::new();
    for s in raw.services.0 {
        // The default `set` and `get` services are the property set and get.
        if matches!(&*s.identifier, "set" | "get") && module_id.is_none() {
            continue;
        }
        let what = format!("service \"{}\"", s.identifier);
        let inputs = s
            .input_data
            .0
            .into_iter()
            .filter_map(|i| match i {
                RawInput::Param(p) => Some(p),
                // A bare identifier names a property (the default get's form): no type to check.
                RawInput::Id(_) => None,
            })
            .collect();
        services.push(Service {
            name: s.name.unwrap_or_else(|| s.identifier.clone()).into(),
            sync: s.call_type.as_deref() == Some("sync"),
            inputs: params(inputs, &what)?,
            outputs: params(s.output_data.0, &what)?,
            identifier: s.identifier.into(),
        });
    }
    Ok(TslFile {
        product_key: product_key.into(),
        module: Module::new(module_id.map(Into::into), properties, events, services),
    })
}

// ---------------------------------------------------------------------------------- raw form

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a thing model object")]
struct RawFile {
    #[serde(default)]
    profile: Option<RawProfile>,
    #[serde(default)]
    function_block_id: Option<String>,
    #[serde(default)]
    properties: Unique<RawProperty>,
    #[serde(default)]
    events: Unique<RawEvent>,
    #[serde(default)]
    services: Unique<RawService>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a profile object")]
struct RawProfile {
    #[serde(default)]
    product_key: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a property object")]
struct RawProperty {
    identifier: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    access_mode: Option<String>,
    #[serde(default)]
    data_type: Option<RawDataType>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an argument object")]
struct RawParam {
    identifier: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    data_type: Option<RawDataType>,
}

impl RawParam {
    fn into_param(self, what: &str) -> Result<Param, LoadError> {
        let Some(dt) = self.data_type else {
            return Err(LoadError {
                line: 0,
                column: 0,
                message: format!("{what}: argument \"{}\" has no dataType", self.identifier),
            });
        };
        Ok(Param {
            name: self.name.unwrap_or_else(|| self.identifier.clone()).into(),
            identifier: self.identifier.into(),
            data_type: dt.0,
        })
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "an event object")]
struct RawEvent {
    identifier: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default, rename = "type")]
    kind: Option<String>,
    #[serde(default)]
    output_data: Unique<RawParam>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", expecting = "a service object")]
struct RawService {
    identifier: String,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    call_type: Option<String>,
    #[serde(default)]
    input_data: Unique<RawInput>,
    #[serde(default)]
    output_data: Unique<RawParam>,
}

/// An `inputData` entry: an argument, or (default `get` service) a bare property identifier.
enum RawInput {
    Id(String),
    Param(RawParam),
}

impl<'de> Deserialize<'de> for RawInput {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = RawInput;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an argument object or an identifier string")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<RawInput, E> {
                Ok(RawInput::Id(s.to_string()))
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<RawInput, A::Error> {
                RawParam::deserialize(de::value::MapAccessDeserializer::new(map))
                    .map(RawInput::Param)
            }
        }
        d.deserialize_any(V)
    }
}

/// Something with an identifier unique in its list.
trait Identified {
    fn id(&self) -> &str;
}

impl Identified for RawProperty {
    fn id(&self) -> &str {
        &self.identifier
    }
}
impl Identified for RawParam {
    fn id(&self) -> &str {
        &self.identifier
    }
}
impl Identified for RawEvent {
    fn id(&self) -> &str {
        &self.identifier
    }
}
impl Identified for RawService {
    fn id(&self) -> &str {
        &self.identifier
    }
}
impl Identified for RawInput {
    fn id(&self) -> &str {
        match self {
            RawInput::Id(s) => s,
            RawInput::Param(p) => &p.identifier,
        }
    }
}

/// A list whose identifiers are unique: a duplicate is an error where it stands.
struct Unique<T>(Vec<T>);

impl<T> Default for Unique<T> {
    fn default() -> Self {
        Unique(Vec::new())
    }
}

impl<'de, T: Deserialize<'de> + Identified> Deserialize<'de> for Unique<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de> + Identified> Visitor<'de> for V<T> {
            type Value = Unique<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Unique<T>, A::Error> {
                let mut out: Vec<T> = Vec::new();
                let mut seen = std::collections::HashSet::new();
                while let Some(item) = seq.next_element::<T>()? {
                    if item.id().is_empty() {
                        return Err(de::Error::custom("empty identifier"));
                    }
                    if !seen.insert(item.id().to_string()) {
                        return Err(de::Error::custom(format!(
                            "identifier \"{}\" appears twice",
                            item.id()
                        )));
                    }
                    out.push(item);
                }
                Ok(Unique(out))
            }
        }
        d.deserialize_seq(V(std::marker::PhantomData))
    }
}

/// `dataType`: `{"type": …, "specs": …}`.
struct RawDataType(DataType);

impl<'de> Deserialize<'de> for RawDataType {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(tag = "type", content = "specs")]
        #[allow(dead_code)] // a date's specs are read (to be checked) and not used
        enum Tagged {
            #[serde(rename = "int")]
            Int(#[serde(default)] Option<RawRange>),
            #[serde(rename = "float")]
            Float(#[serde(default)] Option<RawRange>),
            #[serde(rename = "double")]
            Double(#[serde(default)] Option<RawRange>),
            #[serde(rename = "text")]
            Text(#[serde(default)] Option<RawText>),
            #[serde(rename = "date")]
            Date(#[serde(default)] Option<de::IgnoredAny>),
            #[serde(rename = "bool")]
            Bool(#[serde(default)] Option<BTreeMap<String, String>>),
            #[serde(rename = "enum")]
            Enum(#[serde(default)] Option<EnumSpecs>),
            #[serde(rename = "struct")]
            Struct(#[serde(default)] Option<Unique<RawParam>>),
            #[serde(rename = "array")]
            Array(#[serde(default)] Option<RawArray>),
        }
        let t = Tagged::deserialize(d)?;
        let number = |k, r: Option<RawRange>| -> Result<DataType, D::Error> {
            let r = r.unwrap_or_default();
            if let (Some(min), Some(max)) = (&r.min.0, &r.max.0) {
                if min.value > max.value {
                    return Err(de::Error::custom(format!(
                        "min {} is above max {}",
                        min.text, max.text
                    )));
                }
            }
            if r.step.0.as_ref().is_some_and(|s| s.value < 0.0) {
                return Err(de::Error::custom("step is negative"));
            }
            Ok(DataType::Number(
                k,
                Range {
                    min: r.min.0,
                    max: r.max.0,
                    step: r.step.0.filter(|s| s.value > 0.0),
                    unit: r.unit.filter(|u| !u.is_empty()).map(Into::into),
                    unit_name: r.unit_name.filter(|u| !u.is_empty()).map(Into::into),
                },
            ))
        };
        let count = |n: NumStr, what: &str| -> Result<Option<u32>, D::Error> {
            match n.0 {
                None => Ok(None),
                Some(v)
                    if v.value >= 0.0 && v.value.fract() == 0.0 && v.value <= u32::MAX as f64 =>
                {
                    Ok(Some(v.value as u32))
                }
                Some(v) => Err(de::Error::custom(format!(
                    "{what} {} is not a count",
                    v.text
                ))),
            }
        };
        Ok(RawDataType(match t {
            Tagged::Int(r) => number(NumKind::Int, r)?,
            Tagged::Float(r) => number(NumKind::Float, r)?,
            Tagged::Double(r) => number(NumKind::Double, r)?,
            Tagged::Text(t) => {
                DataType::Text(count(t.map(|t| t.length).unwrap_or_default(), "length")?)
            }
            Tagged::Date(_) => DataType::Date,
            Tagged::Bool(names) => {
                let mut out: [Option<Box<str>>; 2] = [None, None];
                for (k, v) in names.unwrap_or_default() {
                    match k.as_str() {
                        "0" => out[0] = Some(v.into()),
                        "1" => out[1] = Some(v.into()),
                        _ => {
                            return Err(de::Error::custom(format!(
                                "bool specs key \"{k}\" is not 0 or 1"
                            )))
                        }
                    }
                }
                DataType::Bool(out)
            }
            Tagged::Enum(e) => DataType::Enum(e.map(|e| e.0).unwrap_or_default()),
            Tagged::Struct(members) => {
                let mut out = Vec::new();
                for m in members.unwrap_or_default().0 {
                    out.push(
                        m.into_param("struct")
                            .map_err(|e| de::Error::custom(e.message))?,
                    );
                }
                DataType::Struct(out)
            }
            Tagged::Array(a) => {
                let a = a.unwrap_or_default();
                let item = match a.item {
                    Some(i) => i.0,
                    None => return Err(de::Error::custom("array specs has no item")),
                };
                DataType::Array(count(a.size, "size")?, Box::new(item))
            }
        }))
    }
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", expecting = "a specs object")]
struct RawRange {
    #[serde(default)]
    min: NumStr,
    #[serde(default)]
    max: NumStr,
    #[serde(default)]
    step: NumStr,
    #[serde(default)]
    unit: Option<String>,
    #[serde(default)]
    unit_name: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a specs object")]
struct RawText {
    #[serde(default)]
    length: NumStr,
}

#[derive(Deserialize, Default)]
#[serde(expecting = "a specs object")]
struct RawArray {
    #[serde(default)]
    size: NumStr,
    #[serde(default)]
    item: Option<Box<RawDataType>>,
}

/// A number in `specs`: a string (as exported: `"0.1"`) or a JSON number; empty means absent.
#[derive(Default)]
struct NumStr(Option<Num>);

impl<'de> Deserialize<'de> for NumStr {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = NumStr;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a number or a string holding one")
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<NumStr, E> {
                let t = s.trim();
                if t.is_empty() {
                    return Ok(NumStr(None));
                }
                match t.parse::<f64>() {
                    Ok(v) if v.is_finite() => Ok(NumStr(Some(Num {
                        text: t.into(),
                        value: v,
                    }))),
                    _ => Err(E::custom(format!("\"{s}\" is not a number"))),
                }
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> Result<NumStr, E> {
                Ok(NumStr(Some(Num {
                    text: v.to_string().into(),
                    value: v,
                })))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> Result<NumStr, E> {
                Ok(NumStr(Some(Num {
                    text: v.to_string().into(),
                    value: v as f64,
                })))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<NumStr, E> {
                Ok(NumStr(Some(Num {
                    text: v.to_string().into(),
                    value: v as f64,
                })))
            }
            fn visit_unit<E: de::Error>(self) -> Result<NumStr, E> {
                Ok(NumStr(None))
            }
        }
        d.deserialize_any(V)
    }
}

/// An enum's `specs`: `{"<int>": "name", …}`, sorted by value.
struct EnumSpecs(Vec<(i64, Box<str>)>);

impl<'de> Deserialize<'de> for EnumSpecs {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = EnumSpecs;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an object of value: name")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<EnumSpecs, A::Error> {
                let mut out: Vec<(i64, Box<str>)> = Vec::new();
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    let Ok(n) = k.trim().parse::<i64>() else {
                        return Err(de::Error::custom(format!(
                            "enum specs key \"{k}\" is not an integer"
                        )));
                    };
                    if out.iter().any(|(m, _)| *m == n) {
                        return Err(de::Error::custom(format!("enum value {n} appears twice")));
                    }
                    out.push((n, v.into()));
                }
                out.sort_by_key(|(n, _)| *n);
                Ok(EnumSpecs(out))
            }
        }
        d.deserialize_map(V)
    }
}
