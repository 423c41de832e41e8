//! Runs the real tshark with the freshly built plugin.
//!
//! The plugin is copied into a private HOME's personal plugin folder
//! (`~/.local/lib/wireshark/plugins/<X.Y>/epan/aliiot.so`); nothing outside a temporary folder is
//! touched. `WIRESHARK_PLUGIN_DIR` points at an empty folder, which stands in for the global
//! plugin folder, so an aliiot.so installed there (`make install` as root) is not loaded too. Root's tshark ignores personal plugin folders, so as root every tshark runs as
//! `nobody` through `setpriv`, exactly like a user's would. Every run must exit 0 with an empty
//! stderr: Wireshark reports plugin load errors only there.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

pub const SERIES: &str = env!("ALIIOT_WIRESHARK_SERIES");

pub struct Harness {
    pub dir: PathBuf,
    pub home: PathBuf,
    as_root: bool,
}

fn plugin_path() -> PathBuf {
    if let Some(p) = std::env::var_os("ALIIOT_PLUGIN") {
        return PathBuf::from(p);
    }
    // `cargo test` builds the library (cdylib included) into target/<profile>/deps, beside the
    // test binary; that is the build these tests were compiled with.
    let exe = std::env::current_exe().expect("test binary path");
    exe.parent()
        .expect("target/<profile>/deps")
        .join("libaliiot.so")
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let kind = e.file_type().unwrap();
        if kind.is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        } else if kind.is_dir() {
            copy_dir(&e.path(), &to.join(e.file_name()));
        }
    }
}

pub fn make_world_readable(p: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(p).unwrap();
    let mode = if meta.is_dir() { 0o755 } else { 0o644 };
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).unwrap();
    if meta.is_dir() {
        for e in std::fs::read_dir(p).unwrap() {
            make_world_readable(&e.unwrap().path());
        }
    }
}

/// Test folders of test binaries that no longer run (killed before they could remove theirs).
fn remove_stale_dirs() {
    // Without /proc (a chroot, say) no process can be told alive: leave them all.
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix("aliiot-tests-")) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(e.path());
        }
    }
}

pub fn harness() -> &'static Harness {
    static H: OnceLock<Harness> = OnceLock::new();
    H.get_or_init(|| {
        let plugin = plugin_path();
        assert!(
            plugin.exists(),
            "built plugin not found at {}",
            plugin.display()
        );
        remove_stale_dirs();
        let dir = std::env::temp_dir().join(format!("aliiot-tests-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        // Removed when the test binary exits (statics are never dropped).
        extern "C" {
            fn atexit(f: extern "C" fn()) -> i32;
        }
        extern "C" fn remove_own_dir() {
            let _ = std::fs::remove_dir_all(
                std::env::temp_dir().join(format!("aliiot-tests-{}", std::process::id())),
            );
        }
        // SAFETY: registers a plain function with the C library, once per process.
        unsafe { atexit(remove_own_dir) };
        let home = dir.join("home");
        let epan = home.join(format!(".local/lib/wireshark/plugins/{SERIES}/epan"));
        std::fs::create_dir_all(&epan).unwrap();
        std::fs::create_dir_all(dir.join("no-global-plugins")).unwrap();
        std::fs::copy(&plugin, epan.join("aliiot.so")).unwrap();
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures"),
            &dir.join("captures"),
        );
        copy_dir(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/tsl"),
            &dir.join("tsl"),
        );
        make_world_readable(&dir);
        let uid = Command::new("id").arg("-u").output().expect("id -u");
        let as_root = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        let h = Harness { dir, home, as_root };
        let v = h.run_raw(&["--version"]);
        assert!(
            v.0.contains(&format!("TShark (Wireshark) {SERIES}.")),
            "plugin built for Wireshark {SERIES}, but tshark is: {}",
            v.0.lines().next().unwrap_or("")
        );
        h
    })
}

impl Harness {
    pub fn capture(&self, name: &str) -> String {
        self.dir.join("captures").join(name).display().to_string()
    }

    /// A folder of thing model files from tests/tsl, as `-o aliiot.tsl_folder:…` takes it.
    pub fn tsl_folder(&self, name: &str) -> String {
        format!(
            "aliiot.tsl_folder:{}",
            self.dir.join("tsl").join(name).display()
        )
    }

    /// A new folder in the test folder, readable by the user tshark runs as.
    pub fn scratch(&self, name: &str) -> std::path::PathBuf {
        let d = self.dir.join("scratch").join(name);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    /// Runs tshark; returns (stdout, stderr, success).
    pub fn run_raw(&self, args: &[&str]) -> (String, String, bool) {
        self.run_env(&[], args)
    }

    /// Runs tshark with extra environment variables; returns (stdout, stderr, success).
    pub fn run_env(&self, env: &[(&str, &str)], args: &[&str]) -> (String, String, bool) {
        let mut cmd = if self.as_root {
            let mut c = Command::new("setpriv");
            c.args(["--reuid=65534", "--regid=65534", "--clear-groups", "tshark"]);
            c
        } else {
            Command::new("tshark")
        };
        cmd.args(args)
            .env("HOME", &self.home)
            .env("WIRESHARK_PLUGIN_DIR", self.dir.join("no-global-plugins"))
            .env_remove("WIRESHARK_CONFIG_DIR")
            .env("LC_ALL", "C.UTF-8")
            .env("TZ", "UTC")
            .envs(env.iter().copied())
            .current_dir(&self.dir);
        let out = cmd.output().expect("run tshark");
        (
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
            out.status.success(),
        )
    }

    /// Runs tshark and insists on exit 0 and an empty stderr.
    pub fn tshark(&self, args: &[&str]) -> String {
        let (out, err, ok) = self.run_raw(args);
        assert!(ok, "tshark {args:?} failed: {err}");
        assert!(
            err.trim().is_empty(),
            "tshark {args:?} wrote to stderr: {err}"
        );
        out
    }

    /// `-T fields` output as rows of columns.
    pub fn fields(
        &self,
        capture: &str,
        extra: &[&str],
        filter: &str,
        fields: &[&str],
    ) -> Vec<Vec<String>> {
        let cap = self.capture(capture);
        let mut args: Vec<&str> = vec!["-n", "-r", &cap];
        args.extend_from_slice(extra);
        if !filter.is_empty() {
            args.extend_from_slice(&["-Y", filter]);
        }
        args.extend_from_slice(&[
            "-T",
            "fields",
            "-E",
            "separator=\t",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=|",
        ]);
        for f in fields {
            args.extend_from_slice(&["-e", f]);
        }
        // Booleans print as 1/0 in 4.0 and True/False from 4.4 on; compare them as 1/0. Absolute
        // times print as "Nov 22, 2026 02:32:58.665000000 UTC" up to 4.4 and in ISO 8601 from
        // 4.6 on; compare them in the ISO form.
        self.tshark(&args)
            .lines()
            .map(|l| {
                l.split('\t')
                    .map(|col| col.split('|').map(normalize).collect::<Vec<_>>().join("|"))
                    .collect()
            })
            .collect()
    }
}

/// `-o uat:…` rows with the device secrets of every device in the shared captures' manifest.
pub fn secrets_args() -> Vec<String> {
    let devices = [
        ("lab-sensor-01", "3f1d0c9e8b7a6d5c4b3a29180f7e6d01"),
        ("lab-sensor-02", "3f1d0c9e8b7a6d5c4b3a29180f7e6d02"),
        ("lab-sensor-04", "3f1d0c9e8b7a6d5c4b3a29180f7e6d04"),
        ("lab-sensor-05", "3f1d0c9e8b7a6d5c4b3a29180f7e6d05"),
        ("lab-sensor-06", "3f1d0c9e8b7a6d5c4b3a29180f7e6d06"),
    ];
    devices
        .iter()
        .flat_map(|(dn, s)| {
            [
                "-o".to_string(),
                format!("uat:aliiot_device_secrets:\"a1B2c3D4e5F\",\"{dn}\",\"{s}\""),
            ]
        })
        .collect()
}

fn normalize(c: &str) -> String {
    match c {
        "True" => "1".to_string(),
        "False" => "0".to_string(),
        c => iso_time(c).unwrap_or_else(|| c.to_string()),
    }
}

/// "Nov 22, 2026 02:32:58.665000000 UTC" -> "2026-11-22T02:32:58.665000000Z".
fn iso_time(c: &str) -> Option<String> {
    let rest = c.strip_suffix(" UTC")?;
    let (mon, rest) = rest.split_once(' ')?;
    let (day, rest) = rest.split_once(", ")?;
    let (year, time) = rest.split_once(' ')?;
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let m = MONTHS.iter().position(|x| *x == mon)? + 1;
    let d: u32 = day.trim().parse().ok()?;
    Some(format!("{year}-{m:02}-{d:02}T{time}Z"))
}

/// Copies a little-endian pcapng file without its Decryption Secrets Blocks (type 0x0A), so a
/// capture with embedded TLS keys can be tested as one without them. (editcap 4.0 refuses to
/// rewrite files that hold such blocks.)
pub fn strip_tls_keys(src: &Path, dst: &Path) {
    let b = std::fs::read(src).unwrap();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i + 12 <= b.len() {
        let kind = u32::from_le_bytes(b[i..i + 4].try_into().unwrap());
        let len = u32::from_le_bytes(b[i + 4..i + 8].try_into().unwrap()) as usize;
        assert!(
            len >= 12 && i + len <= b.len(),
            "not a little-endian pcapng file: {}",
            src.display()
        );
        if kind != 0x0000_000A {
            out.extend_from_slice(&b[i..i + len]);
        }
        i += len;
    }
    std::fs::write(dst, out).unwrap();
    make_world_readable(dst);
}

/// `-T fields` rows joined with spaces, for comparing against literal lines.
pub fn rows(r: &[Vec<String>]) -> Vec<String> {
    r.iter().map(|cols| cols.join(" ")).collect()
}

pub fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

impl Harness {
    /// Writes one of make-bad-input.py's generated captures (`--large`, `--flood`) into the test
    /// folder and returns its name there.
    pub fn generated(&self, flag: &str, name: &str) -> String {
        let out = self.dir.join("captures").join(name);
        let status = Command::new("python3")
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures/make-bad-input.py"))
            .arg(flag)
            .arg(&out)
            .status()
            .expect("python3");
        assert!(status.success(), "make-bad-input.py {flag} failed");
        make_world_readable(&out);
        name.to_string()
    }
}
