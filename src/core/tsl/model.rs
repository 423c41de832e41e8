//! A product's thing model as the checker uses it: every property, event and service of each
//! module, with its data type, looked up by identifier (`fb:identifier` for a custom module).

use super::super::fxhash::FxMap;

/// A number's bound or step as the file writes it (`"20"`, `"0.1"`) and its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Num {
    pub text: Box<str>,
    pub value: f64,
}

/// The `specs` of an int, float or double.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Range {
    pub min: Option<Num>,
    pub max: Option<Num>,
    pub step: Option<Num>,
    pub unit: Option<Box<str>>,
    pub unit_name: Option<Box<str>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NumKind {
    Int,
    Float,
    Double,
}

#[derive(Debug, Clone, PartialEq)]
pub enum DataType {
    Number(NumKind, Range),
    /// `length`: the most characters a value may have.
    Text(Option<u32>),
    /// UTC milliseconds, as a string of digits.
    Date,
    /// The names of 0 and 1.
    Bool([Option<Box<str>>; 2]),
    /// Each legal value and its name, in the file's order.
    Enum(Vec<(i64, Box<str>)>),
    Struct(Vec<Param>),
    /// `size`: the most items; `item`: their type.
    Array(Option<u32>, Box<DataType>),
}

impl DataType {
    /// The TSL's name of the type (`int`, `struct`…).
    pub fn name(&self) -> &'static str {
        match self {
            DataType::Number(NumKind::Int, _) => "int",
            DataType::Number(NumKind::Float, _) => "float",
            DataType::Number(NumKind::Double, _) => "double",
            DataType::Text(_) => "text",
            DataType::Date => "date",
            DataType::Bool(_) => "bool",
            DataType::Enum(_) => "enum",
            DataType::Struct(_) => "struct",
            DataType::Array(..) => "array",
        }
    }

    /// The unit symbol and name of a number (`°C`, `Celsius`).
    pub fn unit(&self) -> (Option<&str>, Option<&str>) {
        match self {
            DataType::Number(_, r) => (r.unit.as_deref(), r.unit_name.as_deref()),
            _ => (None, None),
        }
    }

    /// The name the model gives an enum or bool value (`on` for 1).
    pub fn value_name(&self, v: f64) -> Option<&str> {
        match self {
            DataType::Bool(names) if v == 0.0 || v == 1.0 => names[v as usize].as_deref(),
            DataType::Enum(values) => values
                .iter()
                .find(|(k, _)| *k as f64 == v)
                .map(|(_, n)| &**n),
            _ => None,
        }
    }

    /// A struct's member by identifier.
    pub fn member(&self, id: &str) -> Option<&Param> {
        match self {
            DataType::Struct(members) => param(members, id),
            _ => None,
        }
    }
}

/// The parameter of a list (a struct's members, an event's outputs, a service's arguments) with
/// identifier `id`.
pub fn param<'a>(list: &'a [Param], id: &str) -> Option<&'a Param> {
    list.iter().find(|p| &*p.identifier == id)
}

/// A property's data, an event's output or a service's input or output argument, or a struct's
/// member.
#[derive(Debug, Clone, PartialEq)]
pub struct Param {
    pub identifier: Box<str>,
    pub name: Box<str>,
    pub data_type: DataType,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    ReadOnly,
    ReadWrite,
    /// An older export's write-only mode.
    WriteOnly,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Property {
    pub param: Param,
    pub access: Access,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub identifier: Box<str>,
    pub name: Box<str>,
    /// `info`, `alert` or `error`.
    pub kind: Box<str>,
    pub outputs: Vec<Param>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Service {
    pub identifier: Box<str>,
    pub name: Box<str>,
    /// `callType: sync`: delivered by RRPC.
    pub sync: bool,
    pub inputs: Vec<Param>,
    pub outputs: Vec<Param>,
}

/// One module: the default one (no id) or a custom one (`functionBlockId`).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Module {
    pub id: Option<Box<str>>,
    pub properties: Vec<Property>,
    pub events: Vec<Event>,
    pub services: Vec<Service>,
    by_property: FxMap<Box<str>, u32>,
    by_event: FxMap<Box<str>, u32>,
    by_service: FxMap<Box<str>, u32>,
}

impl Module {
    pub fn new(
        id: Option<Box<str>>,
        properties: Vec<Property>,
        events: Vec<Event>,
        services: Vec<Service>,
    ) -> Module {
        fn index<'a>(ids: impl Iterator<Item = &'a str>) -> FxMap<Box<str>, u32> {
            let mut m = FxMap::default();
            for (i, id) in ids.enumerate() {
                // The first of duplicates wins (the loader reports them).
                m.entry(id.into()).or_insert(i as u32);
            }
            m
        }
        Module {
            by_property: index(properties.iter().map(|p| &*p.param.identifier)),
            by_event: index(events.iter().map(|e| &*e.identifier)),
            by_service: index(services.iter().map(|s| &*s.identifier)),
            id,
            properties,
            events,
            services,
        }
    }

    pub fn property(&self, id: &str) -> Option<&Property> {
        self.by_property
            .get(id)
            .and_then(|i| self.properties.get(*i as usize))
    }

    pub fn event(&self, id: &str) -> Option<&Event> {
        self.by_event
            .get(id)
            .and_then(|i| self.events.get(*i as usize))
    }

    pub fn service(&self, id: &str) -> Option<&Service> {
        self.by_service
            .get(id)
            .and_then(|i| self.services.get(*i as usize))
    }
}

/// Where a product's model came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// A file of the TSL folder (its path).
    File(Box<str>),
    /// The `data` of a `thing/dsltemplate/get_reply` (or `thing/dynamicTsl/get_reply`) in this
    /// frame of the capture.
    Capture(u32),
}

impl Source {
    pub fn describe(&self) -> String {
        match self {
            Source::File(p) => format!("file {p}"),
            Source::Capture(f) => format!("capture, the thing model reply in frame {f}"),
        }
    }
}

/// A product's thing model: its default module and its custom modules.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductModel {
    pub product_key: Box<str>,
    pub default: Module,
    pub custom: Vec<Module>,
    pub source: Source,
}

/// What an identifier of a message names in a model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Found<'a, T> {
    Yes(&'a T),
    /// Not in its module.
    No,
    /// `fb:id` where no module `fb` is loaded.
    NoModule(&'a str),
}

impl ProductModel {
    /// The module an identifier belongs to (`fb:id` → custom module `fb`), and the bare id.
    fn module_of<'a>(&self, id: &'a str) -> Result<(&Module, &'a str), &'a str> {
        match id.split_once(':') {
            Some((fb, rest)) => self
                .custom
                .iter()
                .find(|m| m.id.as_deref() == Some(fb))
                .map(|m| (m, rest))
                .ok_or(fb),
            None => Ok((&self.default, id)),
        }
    }

    fn find<'a, T>(
        &'a self,
        id: &'a str,
        f: impl Fn(&'a Module, &str) -> Option<&'a T>,
    ) -> Found<'a, T> {
        match self.module_of(id) {
            Ok((m, bare)) => f(m, bare).map_or(Found::No, Found::Yes),
            Err(fb) => Found::NoModule(fb),
        }
    }

    pub fn property<'a>(&'a self, id: &'a str) -> Found<'a, Property> {
        self.find(id, Module::property)
    }

    pub fn event<'a>(&'a self, id: &'a str) -> Found<'a, Event> {
        self.find(id, Module::event)
    }

    pub fn service<'a>(&'a self, id: &'a str) -> Found<'a, Service> {
        self.find(id, Module::service)
    }

    /// Adds a custom module's file (replacing a module of the same id).
    pub fn add_module(&mut self, m: Module) {
        match self.custom.iter_mut().find(|c| c.id == m.id) {
            Some(c) => *c = m,
            None => self.custom.push(m),
        }
    }
}

/// Every product's model, by product key.
#[derive(Debug, Clone, Default)]
pub struct Models {
    products: FxMap<Box<str>, std::rc::Rc<ProductModel>>,
}

impl Models {
    pub fn get(&self, product_key: &str) -> Option<&std::rc::Rc<ProductModel>> {
        self.products.get(product_key)
    }

    pub fn insert(&mut self, m: ProductModel) {
        self.products
            .insert(m.product_key.clone(), std::rc::Rc::new(m));
    }

    pub fn is_empty(&self) -> bool {
        self.products.is_empty()
    }
}
