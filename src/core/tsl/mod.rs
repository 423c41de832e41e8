//! The thing model (TSL): a product's properties, events and services, read from the files the
//! console exports ([`load`]) or from a `thing/dsltemplate/get_reply` in the capture, and Alink
//! messages described and checked against it ([`describe`], with the rules of [`check`]).
//!
//! Which parts of a message the model checks is the topic's catalogue row
//! ([`crate::core::topic::TslRole`]). Checking is a lookup and a comparison per value of the
//! message's JSON, which the payload description has parsed already.

pub mod check;
pub mod folder;
pub mod load;
pub mod model;

use std::rc::Rc;

use super::json::Value;
use super::payload::{self, Property};
use super::topic::{TopicInfo, TslRole};
use check::{check_value, check_writable, Issues, TslIssue};
use model::{DataType, Found, Param, ProductModel};

pub use model::{Models, Source};

/// Makes the finding for an argument a list lacks.
type Namer<'a> = dyn Fn(&str) -> TslIssue + 'a;

/// At most this many struct members or array items are shown under their property.
pub const MAX_MEMBERS: usize = 64;

/// What the model says of one value: its definition (absent for an identifier the model lacks),
/// its members, and what is wrong with it.
#[derive(Debug, Clone, PartialEq)]
pub struct PropertyTsl {
    pub def: Option<Def>,
    /// Struct members or array items, each with its own definition.
    pub members: Vec<Property>,
    pub issues: Vec<TslIssue>,
}

/// How the model presents a value.
#[derive(Debug, Clone, PartialEq)]
pub struct Def {
    pub display_name: Box<str>,
    pub data_type: &'static str,
    pub unit: Option<Box<str>>,
    pub unit_name: Option<Box<str>>,
    /// The model's name of a bool or enum value (`on`).
    pub value_name: Option<Box<str>>,
}

/// What a message's values are to the model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Args {
    #[default]
    Properties,
    EventOutputs,
    ServiceInputs,
    ServiceOutputs,
    /// A gateway's pack post: its own and its sub-devices' properties and event outputs.
    Pack,
}

impl Args {
    pub fn label(self) -> &'static str {
        match self {
            Args::Properties => "Properties",
            Args::EventOutputs => "Event outputs",
            Args::ServiceInputs => "Service inputs",
            Args::ServiceOutputs => "Service outputs",
            Args::Pack => "Gateway and sub-device values",
        }
    }
}

/// A message described against its product's model.
#[derive(Debug, Clone, PartialEq)]
pub struct Described {
    pub model: Rc<ProductModel>,
    /// The message's values (replacing the plain property list).
    pub values: Vec<Property>,
    pub args: Args,
    /// Findings about the message as a whole (unknown event or service, missing inputs…).
    pub issues: Vec<TslIssue>,
}

/// The thing models of a capture: the TSL folder's, and those the capture carried.
#[derive(Debug, Default, Clone)]
pub struct Tsl {
    pub files: Models,
    pub learned: Learned,
}

impl Tsl {
    /// The models in force for frame `frame`.
    pub fn at(&self, frame: u32) -> InForce<'_> {
        InForce {
            tsl: (!self.files.is_empty() || !self.learned.is_empty()).then_some(self),
            frame,
        }
    }
}

/// The models in force for a packet: the TSL folder's, else one the capture carried before it.
#[derive(Clone, Copy, Default)]
pub struct InForce<'a> {
    pub tsl: Option<&'a Tsl>,
    pub frame: u32,
}

impl<'a> InForce<'a> {
    /// No model at all.
    pub const NONE: InForce<'static> = InForce {
        tsl: None,
        frame: 0,
    };

    pub fn get(&self, product_key: &str) -> Option<&'a Rc<ProductModel>> {
        let tsl = self.tsl?;
        tsl.files
            .get(product_key)
            .or_else(|| tsl.learned.before(product_key, self.frame))
    }
}

/// Models the capture carried (`thing/dsltemplate/get_reply`), each from its frame on.
#[derive(Debug, Default, Clone)]
pub struct Learned {
    models: Vec<(u32, Rc<ProductModel>)>,
}

impl Learned {
    pub fn add(&mut self, frame: u32, m: ProductModel) {
        self.models.push((frame, Rc::new(m)));
    }

    /// The newest model of a product carried in a frame before `frame`.
    pub fn before(&self, product_key: &str, frame: u32) -> Option<&Rc<ProductModel>> {
        self.models
            .iter()
            .rev()
            .find(|(f, m)| *f < frame && &*m.product_key == product_key)
            .map(|(_, m)| m)
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }
}

/// The thing model a `thing/dsltemplate/get_reply` carries in `data` (an object, or a string
/// holding one), as JSON text; `None` when it carries none.
pub fn template_data(payload: &[u8]) -> Option<std::borrow::Cow<'_, [u8]>> {
    use std::borrow::Cow;
    if let Some([Some(super::json::Raw::Object(b))]) = super::json::scan(payload, ["data"]) {
        return Some(Cow::Borrowed(b));
    }
    // Escapes, or a string: serde_json reads it (configuration, not packet data to show).
    let v: serde_json::Value = serde_json::from_slice(payload).ok()?;
    match v.get("data")? {
        serde_json::Value::String(s) => Some(Cow::Owned(s.clone().into_bytes())),
        d @ serde_json::Value::Object(_) => serde_json::to_vec(d).ok().map(Cow::Owned),
        _ => None,
    }
}

/// Describes an Alink message `v` of topic `t` against `model`; `None` when its class carries
/// nothing the model says anything about.
/// `params` and `data` are the message's members (a double-encoded one already decoded); the
/// model is the topic's product's among `models` (a gateway's pack post also names its
/// sub-devices' products).
pub fn describe(
    models: InForce<'_>,
    t: &TopicInfo<'_>,
    params: Option<&Value>,
    data: Option<&Value>,
) -> Option<Described> {
    let role = t.class.tsl;
    if role == TslRole::None {
        return None;
    }
    let model = models.get(t.product_key?)?;
    let mut d = Described {
        model: model.clone(),
        values: Vec::new(),
        args: Args::Properties,
        issues: Vec::new(),
    };
    let mut msg = Issues::default();
    let m = &**model;
    match (role, t.is_reply) {
        (TslRole::PropertyPost, false) => {
            if let Some(Value::Object(props)) = params {
                if props.len() > check::MAX_POST_PROPERTIES {
                    msg.push(TslIssue::TooManyProperties { count: props.len() });
                }
                for (k, pv) in props.iter().take(payload::MAX_PROPERTIES) {
                    d.values.push(property(m, k, pv, &["value", "time"], false));
                }
            }
        }
        (TslRole::PropertySet, false) => {
            if let Some(Value::Object(props)) = params {
                for (k, pv) in props.iter().take(payload::MAX_PROPERTIES) {
                    d.values.push(property(m, k, pv, &[], true));
                }
            }
        }
        (TslRole::PropertyGet, false) | (TslRole::DesiredGet, false) => {
            let ids = match params {
                Some(Value::Object(_)) => params.and_then(|p| p.get("identifiers")),
                other => other,
            };
            for id in ids.and_then(Value::as_array).unwrap_or(&[]) {
                if let Some(id) = id.as_str() {
                    unknown_property(m, id, &mut msg);
                }
            }
        }
        (TslRole::DesiredDelete, false) => {
            if let Some(Value::Object(props)) = params {
                for (k, _) in props {
                    unknown_property(m, k, &mut msg);
                }
            }
        }
        (TslRole::PropertyGet, true) => {
            if let Some(Value::Object(props)) = data {
                for (k, pv) in props.iter().take(payload::MAX_PROPERTIES) {
                    d.values.push(property(m, k, pv, &[], false));
                }
            }
        }
        (TslRole::DesiredGet, true) => {
            if let Some(Value::Object(props)) = data {
                for (k, pv) in props.iter().take(payload::MAX_PROPERTIES) {
                    d.values
                        .push(property(m, k, pv, &["value", "version", "time"], false));
                }
            }
        }
        (TslRole::BatchPost, false) => {
            if let Some(Value::Object(props)) = params.and_then(|p| p.get("properties")) {
                'all: for (k, list) in props {
                    for pv in list.as_array().unwrap_or(std::slice::from_ref(list)) {
                        if d.values.len() >= payload::MAX_PROPERTIES {
                            break 'all;
                        }
                        d.values.push(property(m, k, pv, &["value", "time"], false));
                    }
                }
            }
            if let Some(Value::Object(events)) = params.and_then(|p| p.get("events")) {
                for (id, list) in events {
                    for ev in list.as_array().unwrap_or(std::slice::from_ref(list)) {
                        event(m, id, ev, &mut d.values, &mut msg);
                    }
                }
            }
        }
        (TslRole::PackPost, false) => {
            d.args = Args::Pack;
            if let Some(p) = params {
                pack_entry(m, None, p, &mut d.values, &mut msg);
                for sub in p.get("subDevices").and_then(Value::as_array).unwrap_or(&[]) {
                    let identity = sub.get("identity");
                    let field = |k| identity.and_then(|i| i.get(k)).and_then(Value::as_str);
                    if let (Some(pk), Some(dn)) = (field("productKey"), field("deviceName")) {
                        if let Some(sm) = models.get(pk) {
                            pack_entry(sm, Some(dn), sub, &mut d.values, &mut msg);
                        }
                    }
                }
            }
        }
        (TslRole::EventPost, false) => {
            d.args = Args::EventOutputs;
            let id = t.identifier.unwrap_or("");
            if let Some(p) = params {
                event(m, id, p, &mut d.values, &mut msg);
            }
        }
        (TslRole::Service, is_reply) => {
            let id = t.identifier.unwrap_or("");
            d.args = if is_reply {
                Args::ServiceOutputs
            } else {
                Args::ServiceInputs
            };
            let service = match m.service(id) {
                Found::Yes(s) => Some(s),
                Found::No => {
                    if !is_reply {
                        msg.push(TslIssue::UnknownService { id: id.into() });
                    }
                    None
                }
                Found::NoModule(fb) => {
                    if !is_reply {
                        msg.push(TslIssue::UnknownModule { module: fb.into() });
                    }
                    None
                }
            };
            let args = if is_reply { data } else { params };
            if let Some(s) = service {
                if !is_reply && s.sync && t.rrpc_id.is_none() {
                    msg.push(TslIssue::SyncServiceAsync { service: id.into() });
                }
                let (list, unknown): (&[Param], &Namer) = if is_reply {
                    (&s.outputs, &|p: &str| TslIssue::UnknownReplyOutput {
                        service: id.into(),
                        output: p.into(),
                    })
                } else {
                    (&s.inputs, &|p: &str| TslIssue::UnknownInput {
                        service: id.into(),
                        input: p.into(),
                    })
                };
                let missing = |p: &str| TslIssue::MissingInput {
                    service: id.into(),
                    input: p.into(),
                };
                if let Some(a) = args {
                    if !is_reply {
                        // Inputs the call lacks: about the call, not one of its values.
                        if let Value::Object(given) = a {
                            for p in list {
                                if !given.iter().any(|(k, _)| **k == *p.identifier) {
                                    msg.push(missing(&p.identifier));
                                }
                            }
                        }
                    }
                    arguments(list, a, unknown, &mut d.values);
                }
            } else if let Some(Value::Object(given)) = args {
                for (k, av) in given.iter().take(payload::MAX_PROPERTIES) {
                    d.values.push(with_tsl(k, av, None, Vec::new()));
                }
            }
        }
        _ => return None,
    }
    d.issues = msg.finish();
    Some(d)
}

/// One device's part of a pack post: `properties` (`{id: {value, time}}`) and `events`
/// (`{id: {value: {…}, time}}`); a sub-device's values are shown under its name.
fn pack_entry(
    m: &ProductModel,
    device: Option<&str>,
    entry: &Value,
    values: &mut Vec<Property>,
    msg: &mut Issues,
) {
    let from = values.len();
    if let Some(Value::Object(props)) = entry.get("properties") {
        for (k, pv) in props.iter().take(payload::MAX_PROPERTIES) {
            values.push(property(m, k, pv, &["value", "time"], false));
        }
    }
    if let Some(Value::Object(events)) = entry.get("events") {
        for (id, ev) in events {
            event(m, id, ev, values, msg);
        }
    }
    if let Some(dn) = device {
        for v in &mut values[from..] {
            if let Some(d) = v.tsl.as_mut().and_then(|t| t.def.as_mut()) {
                d.display_name = format!("{dn}: {}", d.display_name).into();
            }
        }
    }
}

/// Is `id` a property of the model? Says so when not.
fn unknown_property(m: &ProductModel, id: &str, out: &mut Issues) {
    match m.property(id) {
        Found::Yes(_) => {}
        Found::No => out.push(TslIssue::UnknownProperty { id: id.into() }),
        Found::NoModule(fb) => out.push(TslIssue::UnknownModule { module: fb.into() }),
    }
}

/// One property value `pv` of identifier `k`; `wrapper`: the keys of an object that wraps the
/// value (`{value, time}`); `write`: a set, which needs a writable property.
fn property(m: &ProductModel, k: &str, pv: &Value, wrapper: &[&str], write: bool) -> Property {
    let found = m.property(k);
    let param = match found {
        Found::Yes(p) => Some(&p.param),
        _ => None,
    };
    // `{value, time}` wraps a value unless the property is a struct with a member `value`.
    let wrapped = !wrapper.is_empty()
        && matches!(pv, Value::Object(members)
            if pv.get("value").is_some()
                && members.iter().all(|(mk, _)| wrapper.contains(&&**mk)))
        && !param.is_some_and(|p| p.data_type.member("value").is_some());
    let (value, time) = if wrapped {
        (
            pv.get("value").unwrap_or(&Value::Null),
            pv.get("time").and_then(Value::as_u64_lenient),
        )
    } else {
        (pv, None)
    };
    let mut issues = Issues::default();
    match found {
        Found::Yes(p) => {
            check_value(&p.param.data_type, value, k, &mut issues);
            if write {
                check_writable(p.access, k, &mut issues);
            }
        }
        Found::No => issues.push(TslIssue::UnknownProperty { id: k.into() }),
        Found::NoModule(fb) => issues.push(TslIssue::UnknownModule { module: fb.into() }),
    }
    let mut p = with_tsl(k, value, param, issues.finish());
    p.time = time;
    p
}

/// An event `id`'s outputs: `{"value": {…}, "time": ms}` as documented, or the outputs directly
/// (as the Link SDK and the Node SDK send them).
fn event(m: &ProductModel, id: &str, p: &Value, values: &mut Vec<Property>, msg: &mut Issues) {
    let wrapped = matches!(p, Value::Object(members)
        if matches!(p.get("value"), Some(Value::Object(_)))
            && members.iter().all(|(k, _)| k == "value" || k == "time"));
    let outputs = if wrapped {
        p.get("value").unwrap_or(p)
    } else {
        p
    };
    let ev = match m.event(id) {
        Found::Yes(e) => Some(e),
        Found::No => {
            msg.push(TslIssue::UnknownEvent { id: id.into() });
            None
        }
        Found::NoModule(fb) => {
            msg.push(TslIssue::UnknownModule { module: fb.into() });
            None
        }
    };
    let Some(ev) = ev else {
        if let Value::Object(given) = outputs {
            for (k, v) in given.iter().take(payload::MAX_PROPERTIES) {
                values.push(with_tsl(k, v, None, Vec::new()));
            }
        }
        return;
    };
    if !wrapped && matches!(p, Value::Object(_)) && !ev.outputs.is_empty() {
        msg.push(TslIssue::EventNotWrapped);
    }
    let unknown = |o: &str| TslIssue::UnknownEventOutput {
        event: id.into(),
        output: o.into(),
    };
    arguments(&ev.outputs, outputs, &unknown, values);
}

/// Arguments `{name: value}` against their parameters, each a value of its own.
fn arguments(
    list: &[Param],
    args: &Value,
    unknown: &dyn Fn(&str) -> TslIssue,
    values: &mut Vec<Property>,
) {
    let Value::Object(given) = args else {
        return;
    };
    for (k, v) in given.iter().take(payload::MAX_PROPERTIES) {
        let param = model::param(list, k);
        let mut issues = Issues::default();
        match param {
            Some(p) => check_value(&p.data_type, v, k, &mut issues),
            None => issues.push(unknown(k)),
        }
        values.push(with_tsl(k, v, param, issues.finish()));
    }
}

/// A value with what the model says of it.
fn with_tsl(name: &str, value: &Value, param: Option<&Param>, issues: Vec<TslIssue>) -> Property {
    described(name, value, param.map(|p| (&*p.name, &p.data_type)), issues)
}

/// A value (as it is: a wrapper is taken off before) with its display name and data type, and its
/// members.
fn described(
    name: &str,
    value: &Value,
    def: Option<(&str, &DataType)>,
    issues: Vec<TslIssue>,
) -> Property {
    let mut p = payload::value_property(name, value, None);
    p.tsl = Some(Box::new(PropertyTsl {
        def: def.map(|(n, dt)| def_of(n, dt, p.value_num)),
        members: def.map_or_else(Vec::new, |(n, dt)| members(n, dt, value)),
        issues,
    }));
    p
}

fn def_of(name: &str, dt: &DataType, num: Option<f64>) -> Def {
    let (unit, unit_name) = dt.unit();
    Def {
        display_name: name.into(),
        data_type: dt.name(),
        unit: unit.map(Into::into),
        unit_name: unit_name.map(Into::into),
        value_name: num.and_then(|n| dt.value_name(n)).map(Into::into),
    }
}

/// A struct's members or an array's items (named after `parent`, the array's display name), each
/// with its definition.
fn members(parent: &str, dt: &DataType, value: &Value) -> Vec<Property> {
    match (dt, value) {
        (DataType::Struct(params), Value::Object(given)) => given
            .iter()
            .take(MAX_MEMBERS)
            .map(|(k, v)| {
                let prm = model::param(params, k);
                described(k, v, prm.map(|p| (&*p.name, &p.data_type)), Vec::new())
            })
            .collect(),
        (DataType::Array(_, item), Value::Array(items)) => items
            .iter()
            .take(MAX_MEMBERS)
            .enumerate()
            .map(|(i, v)| {
                let name = format!("{parent} [{i}]");
                described(&format!("[{i}]"), v, Some((&name, &**item)), Vec::new())
            })
            .collect(),
        _ => Vec::new(),
    }
}

#[cfg(test)]
mod tests;
