//! Verification across runs on one file-backed simulator image: each test
//! runs the `nvmeplan` binary in consecutive processes on a `sim:dir=`
//! image, changes the image file between runs where it needs to, and
//! checks what the later run's verified reads catch, count as unchecked
//! and report.

mod common;

use std::io::{Read as _, Seek as _, SeekFrom, Write as _};
use std::path::{Path, PathBuf};

use common::{nvmeplan, text, valid_report};
use serde_json::Value;

const LBA: u64 = 512;

struct Image {
    dir: tempfile::TempDir,
    params: &'static str,
}

impl Image {
    fn new() -> Image {
        Image::with("")
    }

    /// An image of a simulator with more `sim:` parameters (`,namespaces=2`).
    fn with(params: &'static str) -> Image {
        Image { dir: tempfile::tempdir().unwrap(), params }
    }

    fn path(&self) -> PathBuf {
        self.dir.path().join("img")
    }

    fn uri(&self) -> String {
        format!("sim:dir={}{}", self.path().display(), self.params)
    }

    fn state(&self) -> PathBuf {
        self.path().join("state.verify")
    }

    fn namespace(&self) -> std::fs::File {
        std::fs::OpenOptions::new().read(true).write(true).open(self.path().join("ns1.img")).unwrap()
    }

    fn block(&self, lba: u64) -> Vec<u8> {
        let mut f = self.namespace();
        f.seek(SeekFrom::Start(lba * LBA)).unwrap();
        let mut b = vec![0u8; LBA as usize];
        f.read_exact(&mut b).unwrap();
        b
    }

    /// Writes `data` over the image file at `lba`, behind the tool's back.
    fn put(&self, lba: u64, data: &[u8]) {
        let mut f = self.namespace();
        f.seek(SeekFrom::Start(lba * LBA)).unwrap();
        f.write_all(data).unwrap();
        f.sync_all().unwrap();
    }

    /// Runs `steps` as a plan; returns the exit code, stdout and report.json.
    fn run(&self, name: &str, steps: &str) -> (i32, String, Value) {
        let plan = self.dir.path().join(format!("{name}.yaml"));
        std::fs::write(&plan, format!("plan_version: 1\nname: {name}\nsteps:\n{steps}")).unwrap();
        let out = self.dir.path().join(format!("out-{name}"));
        let o = nvmeplan(&[
            "run",
            plan.to_str().unwrap(),
            "--device",
            &self.uri(),
            "--seed",
            "7",
            "--out",
            out.to_str().unwrap(),
        ]);
        let (stdout, stderr) = text(&o);
        let report = valid_report(&out.join("report.json"));
        (o.status.code().unwrap_or(-1), format!("{stdout}{stderr}"), report)
    }
}

fn step<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["steps"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == name)
        .unwrap_or_else(|| panic!("step {name}"))
}

fn verification(report: &Value, name: &str) -> (u64, u64, u64) {
    let v = &step(report, name)["verification"];
    (v["checked"].as_u64().unwrap(), v["unchecked"].as_u64().unwrap(), v["mismatches"].as_u64().unwrap())
}

fn mismatch_details(report: &Value, name: &str) -> Vec<String> {
    step(report, name)["mismatches"]
        .as_array()
        .map(|a| a.iter().map(|m| m.as_str().unwrap().to_string()).collect())
        .unwrap_or_default()
}

const WRITE: &str = "
  - { name: stamped, write: { slba: 0, nlb: 32 } }
  - { name: random, write: { slba: 32, nlb: 8, pattern: random } }
  - { name: zeroes, write_zeroes: { slba: 40, nlb: 8 } }
";

const READ_ALL: &str = "
  - name: read all
    read: { slba: 0, nlb: 48, verify: true }
    expect: { data: { unchecked: 0 } }
";

#[test]
fn a_later_run_checks_what_an_earlier_run_wrote() {
    let img = Image::new();
    let (code, out, _) = img.run("write", WRITE);
    assert_eq!(code, 0, "{out}");
    assert!(img.state().is_file(), "verify state saved beside the image");

    let (code, out, report) = img.run("read", READ_ALL);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("PASS  read all (") && out.contains("): 48 blocks verified\n"), "{out}");
    assert_eq!(verification(&report, "read all"), (48, 0, 0));

    // Between runs: a bit flip, a zeroed stamped block, random bytes over
    // random data, a block copied from its neighbour, data where zeroes
    // belong.
    let mut flipped = img.block(3);
    flipped[200] ^= 0x08;
    img.put(3, &flipped);
    img.put(10, &[0u8; LBA as usize]);
    img.put(33, &[0x5Au8; LBA as usize]);
    let neighbour = img.block(21);
    img.put(20, &neighbour);
    img.put(42, &[1u8; 16]);

    let (code, out, report) = img.run("read-corrupted", READ_ALL);
    assert_eq!(code, 1, "{out}");
    assert_eq!(verification(&report, "read all"), (48, 0, 5));
    let details = mismatch_details(&report, "read all").join("\n");
    for expected in [
        "lba 3: crc",
        "lba 10: crc",
        "lba 20: stamp holds lba 21",
        "lba 33: crc",
        "lba 42: expected zeroes, non-zero byte at offset 0",
    ] {
        assert!(details.contains(expected), "`{expected}` missing from\n{details}");
    }
    assert!(out.contains("expected data.mismatches == 0, got 5; 48 blocks verified"), "{out}");
}

#[test]
fn reads_without_state_are_unchecked_and_unchecked_zero_demands_checking() {
    let img = Image::new();
    let (code, out, report) = img.run(
        "fresh",
        "
  - { name: read, read: { slba: 0, nlb: 8, verify: true } }
  - { name: strict read, read: { slba: 0, nlb: 8, verify: true }, expect: { data: { unchecked: 0 } } }
  - { name: bounded read, read: { slba: 0, nlb: 8, verify: true }, expect: { data: { unchecked: { le: 8 } } } }
",
    );
    assert_eq!(code, 1, "{out}");
    assert!(out.contains("PASS  read (") && out.contains("): 0 blocks verified, 8 unchecked"), "{out}");
    assert_eq!(step(&report, "read")["outcome"], "pass");
    assert_eq!(verification(&report, "read"), (0, 8, 0));
    let strict = step(&report, "strict read");
    assert_eq!(strict["outcome"], "fail");
    assert_eq!(strict["reason"], "expected data.unchecked == 0, got 8");
    assert_eq!(step(&report, "bounded read")["outcome"], "pass");
}

#[test]
fn a_stamp_naming_another_lba_is_caught_without_state() {
    let img = Image::new();
    let (code, out, _) = img.run("write", "\n  - { name: stamped, write: { slba: 0, nlb: 8 } }\n");
    assert_eq!(code, 0, "{out}");
    std::fs::remove_file(img.state()).unwrap();
    let five = img.block(5);
    img.put(6, &five);
    let (code, out, report) =
        img.run("read", "\n  - { name: read, read: { slba: 0, nlb: 8, verify: true } }\n");
    assert_eq!(code, 1, "{out}");
    assert_eq!(verification(&report, "read"), (1, 7, 1));
    assert_eq!(mismatch_details(&report, "read"), ["lba 6: stamp holds lba 5 (0x5)"]);
}

#[test]
fn stale_state_is_discarded_never_trusted() {
    let img = Image::new();
    let (code, out, _) = img.run("write", "\n  - { name: stamped, write: { slba: 0, nlb: 8 } }\n");
    assert_eq!(code, 0, "{out}");
    let old = std::fs::read(img.state()).unwrap();
    // Another run writes other data, then the first run's state comes back
    // (as if that run had not saved its own).
    let (code, out, _) =
        img.run("overwrite", "\n  - { name: other, write: { slba: 0, nlb: 8, pattern: { byte: 0xAB } } }\n");
    assert_eq!(code, 0, "{out}");
    std::fs::write(img.state(), &old).unwrap();
    let (code, out, report) = img.run(
        "read",
        "\n  - { name: read, read: { slba: 0, nlb: 8, verify: true }, expect: { data: { unchecked: 0 } } }\n",
    );
    assert_eq!(code, 1, "{out}");
    assert_eq!(verification(&report, "read"), (0, 8, 0), "unchecked, not mismatched");
    assert!(
        out.contains("warning: verify state") && out.contains("discarded: the device was written"),
        "{out}"
    );
    let warnings = report["warnings"].as_array().unwrap();
    assert!(warnings[0].as_str().unwrap().contains("host write commands"), "{warnings:?}");

    // A damaged state file is discarded the same way.
    std::fs::write(img.state(), b"NVPVSTAT garbage").unwrap();
    let (code, out, report) =
        img.run("read-damaged", "\n  - { name: read, read: { slba: 0, nlb: 8, verify: true } }\n");
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("discarded: it is damaged"), "{out}");
    assert_eq!(verification(&report, "read"), (0, 8, 0));
}

#[test]
fn every_write_of_a_later_run_keeps_the_state_truthful() {
    let img = Image::new();
    let (code, out, _) = img.run("write", "\n  - { name: stamped, write: { slba: 0, nlb: 16 } }\n");
    assert_eq!(code, 0, "{out}");
    // Unverified writes: a pattern write is recorded; a raw write command
    // (blocks 8..10) makes its range unknown.
    let (code, out, _) = img.run(
        "rewrite",
        "
  - { name: pattern, write: { slba: 0, nlb: 4, pattern: { byte: 0xC3 } } }
  - { name: raw, io_raw: { opcode: 0x01, nsid: 1, cdw10: 8, cdw12: 1, data: { out: { len: 1024, pattern: ones } } } }
",
    );
    assert_eq!(code, 0, "{out}");
    let (code, out, report) =
        img.run("read", "\n  - { name: read, read: { slba: 0, nlb: 16, verify: true } }\n");
    assert_eq!(code, 0, "{out}");
    assert_eq!(verification(&report, "read"), (14, 2, 0));
}

#[test]
fn ioworker_reads_count_checked_and_unchecked_blocks() {
    let img = Image::new();
    let (code, out, _) = img.run("write", "\n  - { name: stamped, write: { slba: 0, nlb: 64 } }\n");
    assert_eq!(code, 0, "{out}");
    let (code, out, report) = img.run(
        "workers",
        "
  - name: written
    ioworker: { io_size: 8, io_count: 40, region_end: 64, verify: true }
    expect: { data: { unchecked: 0 } }
  - name: beyond
    ioworker: { io_size: 8, io_count: 40, region_start: 64, region_end: 128, verify: true }
    expect: { data: { unchecked: 0 } }
",
    );
    assert_eq!(code, 1, "{out}");
    let (checked, unchecked, mismatches) = verification(&report, "written");
    assert_eq!((checked, unchecked, mismatches), (320, 0, 0));
    let total = &step(&report, "written")["ioworker"]["total"];
    assert_eq!((total["blocks_checked"].as_u64(), total["blocks_unchecked"].as_u64()), (Some(320), Some(0)));
    let beyond = step(&report, "beyond");
    assert_eq!(beyond["outcome"], "fail");
    assert_eq!(verification(&report, "beyond"), (0, 320, 0));
    assert_eq!(beyond["ioworker"]["total"]["blocks_unchecked"].as_u64(), Some(320));
}

#[test]
fn a_file_image_keeps_its_state_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let image = dir.path().join("disk.img");
    let plan = |name: &str, steps: &str| -> PathBuf {
        let p = dir.path().join(format!("{name}.yaml"));
        std::fs::write(&p, format!("plan_version: 1\nname: {name}\nsteps:\n{steps}")).unwrap();
        p
    };
    let uri = format!("sim:file={}", image.display());
    let run = |p: &Path| nvmeplan(&["run", p.to_str().unwrap(), "--device", &uri]);
    let w = run(&plan("w", "  - { name: w, write: { slba: 100, nlb: 4 } }\n"));
    assert!(w.status.success(), "{:?}", text(&w));
    assert!(dir.path().join("disk.img.state.verify").is_file());
    let r = run(&plan(
        "r",
        "  - { name: r, read: { slba: 100, nlb: 4, verify: true }, expect: { data: { unchecked: 0 } } }\n",
    ));
    let (stdout, _) = text(&r);
    assert!(r.status.success(), "{stdout}");
    assert!(stdout.contains(": 4 blocks verified"), "{stdout}");
}

#[test]
fn ioworkers_on_several_namespaces_leave_no_stale_state() {
    let img = Image::with(",namespaces=2");
    let (code, out, _) = img.run(
        "write",
        "
  - { name: ns1, write: { nsid: 1, slba: 0, nlb: 8 } }
  - { name: ns2, write: { nsid: 2, slba: 0, nlb: 8 } }
",
    );
    assert_eq!(code, 0, "{out}");
    // Unverified workers on both namespaces rewrite those blocks.
    let (code, out, _) = img.run(
        "workers",
        "
  - name: rewrite
    ioworker:
      - { nsid: 1, io_size: 8, io_count: 4, region_end: 8, read_percentage: 0, pattern: ones }
      - { nsid: 2, io_size: 8, io_count: 4, region_end: 8, read_percentage: 0, pattern: ones }
",
    );
    assert_eq!(code, 0, "{out}");
    let (code, out, report) = img.run(
        "read",
        "
  - { name: ns1, read: { nsid: 1, slba: 0, nlb: 8, verify: true } }
  - { name: ns2, read: { nsid: 2, slba: 0, nlb: 8, verify: true } }
",
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(verification(&report, "ns1"), (0, 8, 0));
    assert_eq!(verification(&report, "ns2"), (0, 8, 0));
}
