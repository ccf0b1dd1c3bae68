//! The embedded knowledge base as static data: build.rs parses every `rules/**/*.toml` file and
//! writes its values as three tables (nodes, table entries, one string blob), which serde reads
//! here into the knowledge base's own types. No text is parsed at start-up: loading the JSON
//! build.rs used to embed was half of an `ocdoctor check`. The tables hold offsets, not
//! pointers, so they need no relocation when the program is loaded and stay in read-only pages.
//!
//! The TOML files stay the one source of truth: `KnowledgeBase::from_files` parses them, and a
//! test checks that both give the same knowledge base. The writing side is build.rs'
//! `TreeWriter`.

use serde::de::value::{BorrowedStrDeserializer, Error, MapDeserializer, SeqDeserializer};
use serde::de::{IntoDeserializer, Visitor};
use serde::forward_to_deserialize_any;

/// One TOML value. Strings are `(start, length)` in [`KB_STRINGS`]; an array's items are the
/// nodes `first..first + len`, a table's entries the entries `first..first + len` of
/// [`KB_ENTRIES`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Node {
    Str(u32, u32),
    Int(i64),
    Float(f64),
    Bool(bool),
    Array(u32, u32),
    Table(u32, u32),
}

/// A table entry: the key (start and length in `KB_STRINGS`) and the value's node.
type Entry = (u32, u32, u32);

// `KB_STRINGS`, `KB_NODES`, `KB_ENTRIES` and `KB_FILES_TREE` (path relative to rules/, root node).
include!(concat!(env!("OUT_DIR"), "/kb_tree.rs"));

fn text(start: u32, len: u32) -> &'static str {
    // build.rs writes whole strings at their own offsets: always a char boundary.
    KB_STRINGS
        .get(start as usize..(start + len) as usize)
        .unwrap_or_default()
}

/// The root node of every embedded file: (path relative to `rules/`, reader of its value).
pub(crate) fn files() -> impl Iterator<Item = (&'static str, At)> {
    KB_FILES_TREE.iter().map(|&(path, root)| (path, At(root)))
}

/// A node of the embedded tables, as a serde deserializer.
#[derive(Debug, Clone, Copy)]
pub(crate) struct At(u32);

impl At {
    fn node(self) -> Node {
        KB_NODES[self.0 as usize]
    }

    pub(crate) fn parse<T: serde::de::DeserializeOwned>(self) -> Result<T, String> {
        T::deserialize(self).map_err(|e| e.to_string())
    }
}

/// A table key: borrowed from the blob, so serde's `flatten` keeps it without a copy.
struct Key(&'static str);

impl<'de> IntoDeserializer<'de, Error> for Key {
    type Deserializer = BorrowedStrDeserializer<'de, Error>;
    fn into_deserializer(self) -> Self::Deserializer {
        BorrowedStrDeserializer::new(self.0)
    }
}

impl IntoDeserializer<'_, Error> for At {
    type Deserializer = At;
    fn into_deserializer(self) -> At {
        self
    }
}

impl<'de> serde::Deserializer<'de> for At {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        match self.node() {
            Node::Str(start, len) => visitor.visit_borrowed_str(text(start, len)),
            Node::Int(i) => visitor.visit_i64(i),
            Node::Float(f) => visitor.visit_f64(f),
            Node::Bool(b) => visitor.visit_bool(b),
            Node::Array(first, len) => {
                let mut items = SeqDeserializer::new((first..first + len).map(At));
                let value = visitor.visit_seq(&mut items)?;
                items.end()?;
                Ok(value)
            }
            Node::Table(first, len) => {
                let entries = KB_ENTRIES
                    .get(first as usize..(first + len) as usize)
                    .unwrap_or_default();
                let mut map = MapDeserializer::new(
                    entries
                        .iter()
                        .map(|&(start, len, node)| (Key(text(start, len)), At(node))),
                );
                let value = visitor.visit_map(&mut map)?;
                map.end()?;
                Ok(value)
            }
        }
    }

    /// A present value is `Some` (an absent key is a missing field, which serde makes `None`).
    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_some(self)
    }

    /// The knowledge base's enums are unit variants written as strings (`severity = "error"`).
    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _name: &'static str,
        _variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, Error> {
        match self.node() {
            Node::Str(start, len) => {
                visitor.visit_enum(BorrowedStrDeserializer::new(text(start, len)))
            }
            _ => self.deserialize_any(visitor),
        }
    }

    forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct newtype_struct seq tuple
        tuple_struct map struct identifier ignored_any
    }
}
