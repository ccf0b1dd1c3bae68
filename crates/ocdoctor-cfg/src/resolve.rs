//! Resolution (stub).
use crate::{Invocation, Model, Problem, Version};
use std::path::{Path, PathBuf};
pub trait FileSystem {
    fn read(&self, p: &Path) -> Option<String>;
}
pub struct RealFs;
impl FileSystem for RealFs {
    fn read(&self, p: &Path) -> Option<String> {
        std::fs::read(p)
            .ok()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    }
}
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    pub cwd: PathBuf,
    pub version: Version,
}
#[derive(Debug, Clone, Default)]
pub struct SourceFile {}
#[derive(Debug, Clone, Default)]
pub struct Session {
    pub model: Model,
    pub problems: Vec<Problem>,
}
pub fn resolve(_i: &Invocation, _o: &ResolveOptions) -> Session {
    Session::default()
}
pub fn resolve_with(_i: &Invocation, _o: &ResolveOptions, _fs: &dyn FileSystem) -> Session {
    Session::default()
}
