//! USB devices from `<root>/sys/bus/usb/devices` (layout: shared/reference/examples/usb/SYSFS.md).

use crate::fsutil::{hex, link_name, list_dir, read_bytes, read_trim, read_u32, under};
use crate::model::{UsbDevice, UsbInterface};
use std::path::Path;

/// Is this entry name a device (`1-2`, `3-3.4.4`) rather than a root hub (`usb1`) or an interface
/// (`1-2:1.0`)?
pub fn is_device_name(name: &str) -> bool {
    let Some((bus, ports)) = name.split_once('-') else {
        return false;
    };
    !bus.is_empty()
        && bus.bytes().all(|b| b.is_ascii_digit())
        && !ports.is_empty()
        && ports.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && ports != "0"
}

/// Scan the devices. Returns None when the bus directory does not exist at all.
pub fn scan(root: &Path) -> Option<Vec<UsbDevice>> {
    let dir = under(root, "/sys/bus/usb/devices");
    if !dir.is_dir() {
        return None;
    }
    let names = list_dir(&dir);
    let mut devices = Vec::new();
    for name in names.iter().filter(|n| is_device_name(n)) {
        // The entries are symlinks into /sys/devices/...; following them with join() works for both the
        // real layout and fixture trees that use plain directories.
        let d = dir.join(name);
        devices.push(read_device(&dir, name, &d, &names));
    }
    devices.sort_by_key(|d| natural_key(&d.sysfs_name));
    Some(devices)
}

/// Sort `1-10` after `1-2`.
fn natural_key(name: &str) -> Vec<u32> {
    name.split(['-', '.'])
        .map(|p| p.parse().unwrap_or(u32::MAX))
        .collect()
}

fn hex4(path: &Path) -> String {
    read_trim(path)
        .map(|s| s.to_ascii_lowercase())
        .filter(|s| s.len() <= 8 && s.bytes().all(|b| b.is_ascii_hexdigit()))
        .unwrap_or_default()
}

fn read_device(bus_dir: &Path, name: &str, d: &Path, all: &[String]) -> UsbDevice {
    let mut dev = UsbDevice {
        sysfs_name: name.to_string(),
        busnum: read_u32(&d.join("busnum")),
        devnum: read_u32(&d.join("devnum")),
        port_path: read_trim(&d.join("devpath")),
        vendor_id: hex4(&d.join("idVendor")),
        product_id: hex4(&d.join("idProduct")),
        manufacturer: read_trim(&d.join("manufacturer")),
        product: read_trim(&d.join("product")),
        speed: read_trim(&d.join("speed")),
        device_class: read_trim(&d.join("bDeviceClass")),
        ..UsbDevice::default()
    };
    // busnum/devpath fall back to the name when the attribute is missing or garbage.
    if dev.busnum.is_none() {
        dev.busnum = name.split('-').next().and_then(|b| b.parse().ok());
    }
    if dev.port_path.is_none() {
        dev.port_path = name.split_once('-').map(|(_, p)| p.to_string());
    }
    if let Some(raw) = read_bytes(&d.join("serial")) {
        match String::from_utf8(raw.clone()) {
            Ok(s) => dev.serial = Some(s.trim().to_string()).filter(|s| !s.is_empty()),
            Err(_) => {
                // Old ST-LINK/V2 firmware reports the serial as raw bytes; OpenOCD's `adapter serial`
                // wants them hex-encoded then, so keep both.
                dev.serial = Some(String::from_utf8_lossy(&raw).into_owned());
                dev.serial_hex = Some(hex(&raw));
            }
        }
    }
    // Interfaces: `<name>:C.I` directories, which exist both inside the device directory and as
    // entries in /sys/bus/usb/devices. Prefer the device directory, fall back to the flat list.
    let prefix = format!("{name}:");
    let mut if_names: Vec<String> = list_dir(d)
        .into_iter()
        .filter(|n| n.starts_with(&prefix))
        .collect();
    let from_device_dir = !if_names.is_empty();
    if !from_device_dir {
        if_names = all
            .iter()
            .filter(|n| n.starts_with(&prefix))
            .cloned()
            .collect();
    }
    for ifn in if_names {
        let p = if from_device_dir {
            d.join(&ifn)
        } else {
            bus_dir.join(&ifn)
        };
        dev.interfaces.push(read_interface(&ifn, &p));
    }
    dev.interfaces.sort_by_key(|i| i.number);
    dev
}

fn read_interface(name: &str, p: &Path) -> UsbInterface {
    let number = read_trim(&p.join("bInterfaceNumber"))
        .and_then(|s| u8::from_str_radix(&s, 16).ok())
        .or_else(|| name.rsplit_once('.').and_then(|(_, n)| n.parse().ok()));
    let mut children = Vec::new();
    for c in list_dir(p) {
        if c.starts_with("tty") && c != "tty" {
            children.push(c);
        } else if c == "tty" {
            children.extend(list_dir(&p.join("tty")));
        } else if c.starts_with("0003:") {
            // HID child: hidraw nodes live under <hid>/hidraw/
            children.extend(list_dir(&p.join(&c).join("hidraw")));
        }
    }
    UsbInterface {
        name: name.to_string(),
        number,
        class: read_trim(&p.join("bInterfaceClass")),
        subclass: read_trim(&p.join("bInterfaceSubClass")),
        protocol: read_trim(&p.join("bInterfaceProtocol")),
        interface_string: read_trim(&p.join("interface")),
        driver: link_name(&p.join("driver")),
        children,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn names() {
        assert!(is_device_name("1-2"));
        assert!(is_device_name("3-3.4.4"));
        assert!(!is_device_name("usb1"));
        assert!(!is_device_name("1-2:1.0"));
        assert!(!is_device_name("1-0:1.0"));
        assert!(!is_device_name("-"));
    }
}
