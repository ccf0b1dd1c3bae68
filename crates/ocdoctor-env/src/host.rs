//! Host facts: distro, kernel, WSL, virtual machine, container, board model.

use crate::fsutil::{read_text, read_trim, under};
use crate::model::{HostInfo, WslInfo};
use std::path::Path;

pub fn collect(root: &Path, wsl_distro_env: Option<&str>) -> HostInfo {
    let mut h = HostInfo::default();
    if let Some(t) = read_text(&under(root, "/etc/os-release"))
        .or_else(|| read_text(&under(root, "/usr/lib/os-release")))
    {
        for line in t.lines() {
            let Some((k, v)) = line.split_once('=') else {
                continue;
            };
            let v = v.trim().trim_matches('"').trim_matches('\'').to_string();
            match k.trim() {
                "ID" => h.distro_id = Some(v),
                "PRETTY_NAME" => h.distro_name = Some(v),
                "VERSION_ID" => h.distro_version = Some(v),
                _ => {}
            }
        }
    }
    h.kernel = read_text(&under(root, "/proc/version"))
        .and_then(|t| t.lines().next().map(|l| l.trim().to_string()));
    let k = h.kernel.clone().unwrap_or_default();
    let kl = k.to_ascii_lowercase();
    if kl.contains("microsoft") || kl.contains("wsl") || wsl_distro_env.is_some() {
        // WSL2 kernels say "microsoft-standard-WSL2"; WSL1 fakes "Microsoft" (capital M) in the version.
        let version = if kl.contains("wsl2") || k.contains("microsoft-standard") {
            Some(2)
        } else if k.contains("Microsoft") {
            Some(1)
        } else {
            None
        };
        h.wsl = Some(WslInfo {
            version,
            distro: wsl_distro_env.map(str::to_string),
        });
    }
    h.dmi_sys_vendor = read_trim(&under(root, "/sys/class/dmi/id/sys_vendor"));
    h.dmi_product_name = read_trim(&under(root, "/sys/class/dmi/id/product_name"));
    h.vm = vm_hint(
        h.dmi_sys_vendor.as_deref().unwrap_or(""),
        h.dmi_product_name.as_deref().unwrap_or(""),
    );
    h.container = container_hint(root);
    h.board_model = read_trim(&under(root, "/proc/device-tree/model"))
        .map(|m| m.trim_end_matches('\0').to_string());
    h.uptime_secs = read_trim(&under(root, "/proc/uptime")).and_then(|t| {
        let secs: f64 = t.split_whitespace().next()?.parse().ok()?;
        (secs.is_finite() && secs >= 0.0).then_some(secs as u64)
    });
    h
}

pub fn vm_hint(vendor: &str, product: &str) -> Option<String> {
    let v = vendor.to_ascii_lowercase();
    let p = product.to_ascii_lowercase();
    let name = if v.contains("qemu") || p.contains("kvm") || p.contains("qemu") {
        "QEMU/KVM"
    } else if v.contains("vmware") {
        "VMware"
    } else if v.contains("innotek") || p.contains("virtualbox") {
        "VirtualBox"
    } else if v.contains("microsoft") && p.contains("virtual machine") {
        "Hyper-V"
    } else if v.contains("xen") {
        "Xen"
    } else if v.contains("parallels") {
        "Parallels"
    } else if v.contains("amazon ec2") || p.contains("amazon ec2") {
        "Amazon EC2"
    } else if v.contains("google") {
        "Google Compute Engine"
    } else if p.contains("apple virtualization") || v.contains("apple") && p.contains("virtual") {
        "Apple Virtualization"
    } else {
        return None;
    };
    Some(name.to_string())
}

fn container_hint(root: &Path) -> Option<String> {
    if under(root, "/.dockerenv").exists() {
        return Some("docker".into());
    }
    if under(root, "/run/.containerenv").exists() {
        return Some("podman".into());
    }
    let cg = read_text(&under(root, "/proc/1/cgroup")).unwrap_or_default();
    if cg.contains("kubepods") {
        return Some("kubernetes".into());
    }
    if cg.contains("/docker/") {
        return Some("docker".into());
    }
    if cg.contains("/lxc/") {
        return Some("lxc".into());
    }
    None
}
