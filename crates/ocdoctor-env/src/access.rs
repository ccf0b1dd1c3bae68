//! Who the user is, and whether they may open a device node.
//!
//! Two ways to answer "may I open /dev/bus/usb/BBB/DDD read-write?":
//! * On the real machine (root "/", no identity override, Unix): ask the kernel with `access(2)`
//!   (rustix, R_OK|W_OK). That is what probe-rs does, and it sees everything: mode, groups, and the ACL
//!   that systemd-logind adds for `TAG+="uaccess"` at the local seat. It uses the real uid, which is
//!   what an `openocd` started from the same shell gets.
//! * Everywhere else (a fixture root, a saved identity, non-Unix): compute it from owner/group/mode the
//!   way the kernel's permission check does without ACLs: root may; else owner bits if uid matches,
//!   else group bits if the gid or a supplementary group matches, else other bits. ACLs are invisible
//!   there, so a `uaccess` ACL is not counted (said in the README).

use crate::fsutil::{read_text, under};
use crate::model::{DeviceNode, GroupRef, UserInfo};
use std::collections::BTreeMap;
use std::path::Path;

/// Identity to evaluate permissions for (fixtures, or "what would user X see").
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Identity {
    pub uid: u32,
    pub gid: u32,
    /// Supplementary groups (the primary gid may be repeated here; it does not matter).
    pub groups: Vec<u32>,
    pub name: Option<String>,
}

/// Owner/group/mode of a device node given from outside: git cannot store ownership, so fixture trees
/// keep them in a sidecar file that the tests turn into this override.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct NodeMeta {
    pub uid: u32,
    pub gid: u32,
    /// Permission bits, e.g. 0o664.
    pub mode: u32,
}

/// `/etc/group` and `/etc/passwd` of the root, for names.
#[derive(Debug, Default)]
pub struct Accounts {
    /// gid → (name, members)
    pub groups: BTreeMap<u32, (String, Vec<String>)>,
    pub users: BTreeMap<u32, String>,
}

impl Accounts {
    pub fn load(root: &Path) -> Accounts {
        let mut a = Accounts::default();
        if let Some(text) = read_text(&under(root, "/etc/group")) {
            for line in text.lines() {
                let f: Vec<&str> = line.split(':').collect();
                if f.len() >= 3
                    && let Ok(gid) = f[2].trim().parse::<u32>()
                {
                    let members = f
                        .get(3)
                        .map(|m| {
                            m.split(',')
                                .filter(|s| !s.is_empty())
                                .map(str::to_string)
                                .collect()
                        })
                        .unwrap_or_default();
                    a.groups.entry(gid).or_insert((f[0].to_string(), members));
                }
            }
        }
        if let Some(text) = read_text(&under(root, "/etc/passwd")) {
            for line in text.lines() {
                let f: Vec<&str> = line.split(':').collect();
                if f.len() >= 3
                    && let Ok(uid) = f[2].trim().parse::<u32>()
                {
                    a.users.entry(uid).or_insert_with(|| f[0].to_string());
                }
            }
        }
        a
    }

    pub fn group_name(&self, gid: u32) -> Option<String> {
        self.groups.get(&gid).map(|(n, _)| n.clone())
    }

    pub fn user_name(&self, uid: u32) -> Option<String> {
        self.users.get(&uid).cloned()
    }

    pub fn gid_of(&self, name: &str) -> Option<u32> {
        self.groups
            .iter()
            .find(|(_, (n, _))| n == name)
            .map(|(g, _)| *g)
    }
}

/// The identity of the collecting process (real ids, like access(2) uses). None off Unix.
pub fn process_identity() -> Option<Identity> {
    #[cfg(unix)]
    {
        let uid = rustix::process::getuid().as_raw();
        let gid = rustix::process::getgid().as_raw();
        let groups = rustix::process::getgroups()
            .map(|v| v.into_iter().map(|g| g.as_raw()).collect())
            .unwrap_or_default();
        Some(Identity {
            uid,
            gid,
            groups,
            name: None,
        })
    }
    #[cfg(not(unix))]
    {
        None
    }
}

pub fn user_info(id: Option<&Identity>, source: &str, acc: &Accounts) -> UserInfo {
    let Some(id) = id else {
        return UserInfo {
            source: source.to_string(),
            ..UserInfo::default()
        };
    };
    let mut gids: Vec<u32> = vec![id.gid];
    for g in &id.groups {
        if !gids.contains(g) {
            gids.push(*g);
        }
    }
    UserInfo {
        uid: Some(id.uid),
        gid: Some(id.gid),
        name: id.name.clone().or_else(|| acc.user_name(id.uid)),
        groups: gids
            .into_iter()
            .map(|gid| GroupRef {
                gid,
                name: acc.group_name(gid),
            })
            .collect(),
        source: source.to_string(),
    }
}

/// Permission check from mode bits (see the module comment for when this is used).
pub fn may_open_rw(meta: NodeMeta, id: &Identity) -> bool {
    if id.uid == 0 {
        return true;
    }
    let bits = if meta.uid == id.uid {
        (meta.mode >> 6) & 0o7
    } else if meta.gid == id.gid || id.groups.contains(&meta.gid) {
        (meta.mode >> 3) & 0o7
    } else {
        meta.mode & 0o7
    };
    bits & 0o6 == 0o6
}

/// How to check access for this collection.
pub enum AccessMode<'a> {
    /// Ask the kernel (real machine).
    Kernel,
    /// Compute from bits for this identity.
    Computed(&'a Identity),
    /// Nothing to compare against.
    Unknown,
}

/// Describe `/dev/bus/usb/BBB/DDD`.
pub fn device_node(
    root: &Path,
    busnum: u32,
    devnum: u32,
    overrides: &BTreeMap<String, NodeMeta>,
    mode: &AccessMode<'_>,
    acc: &Accounts,
) -> DeviceNode {
    let shown = format!("/dev/bus/usb/{busnum:03}/{devnum:03}");
    let path = under(root, &shown);
    let exists = std::fs::symlink_metadata(&path).is_ok();
    let mut node = DeviceNode {
        path: shown.clone(),
        exists,
        ..DeviceNode::default()
    };
    let meta = if let Some(m) = overrides.get(&shown) {
        node.meta_source = "override".into();
        Some(*m)
    } else if exists {
        node.meta_source = "stat".into();
        stat_meta(&path)
    } else {
        None
    };
    if let Some(m) = meta {
        node.uid = Some(m.uid);
        node.gid = Some(m.gid);
        node.owner = acc.user_name(m.uid);
        node.group = acc.group_name(m.gid);
        node.mode = Some(m.mode & 0o7777);
        node.mode_octal = Some(format!("{:04o}", m.mode & 0o7777));
    }
    if !exists && !overrides.contains_key(&shown) {
        node.access_method = "none".into();
        return node;
    }
    match mode {
        AccessMode::Kernel => {
            node.access_method = "access(2)".into();
            node.accessible = kernel_access(&path);
        }
        AccessMode::Computed(id) => {
            node.access_method = "mode-bits".into();
            node.accessible = meta.map(|m| may_open_rw(m, id));
        }
        AccessMode::Unknown => node.access_method = "unknown".into(),
    }
    node
}

#[cfg(unix)]
fn stat_meta(path: &Path) -> Option<NodeMeta> {
    use std::os::unix::fs::MetadataExt;
    let m = std::fs::metadata(path).ok()?;
    Some(NodeMeta {
        uid: m.uid(),
        gid: m.gid(),
        mode: m.mode() & 0o7777,
    })
}

#[cfg(not(unix))]
fn stat_meta(_path: &Path) -> Option<NodeMeta> {
    None
}

#[cfg(unix)]
fn kernel_access(path: &Path) -> Option<bool> {
    use rustix::fs::Access;
    match rustix::fs::access(path, Access::READ_OK | Access::WRITE_OK) {
        Ok(()) => Some(true),
        Err(e) if e == rustix::io::Errno::ACCESS || e == rustix::io::Errno::PERM => Some(false),
        Err(e) if e == rustix::io::Errno::ROFS => Some(false),
        Err(_) => None,
    }
}

#[cfg(not(unix))]
fn kernel_access(_path: &Path) -> Option<bool> {
    None
}
