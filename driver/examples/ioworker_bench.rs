//! ioworker benchmark: prints one JSON object per line, for `ci/bench.sh`.
//!
//! Usage: `ioworker_bench <mode> [seconds]` with mode one of
//!
//! * `host`: 4 KiB random reads at QD 32, one worker, latency recorded,
//!   against `sim:data=null,latency=none`: IOPS, host thread CPU ns per IO,
//!   and the simulator's SQ thread CPU ns per command.
//! * `host-ios <n>`: the `host` workload for exactly `n` IOs instead of a
//!   time (for instruction counting under callgrind).
//! * `latency`: the same workload with latency recording on and off.
//! * `verify`: 70/30 random read/write at QD 32 on `sim:latency=none` (the
//!   simulator moves data), verify on and off, over a prewritten region.
//! * `crc`: CRC32 + stamp check of 4 KiB blocks from DRAM (256 MiB) vs a
//!   plain read pass (sum of u64s) of the same buffer.
//! * `fio <file>`: converts fio's JSON output to one line (`mode` `fio`).
//! * `report <jsonl> <bench.json>`: medians per mode and field, the table
//!   with the targets, and `bench.json`.
//!
//! `SUBMIT_BATCH=n` overrides the workers' doorbell batch (default
//! `qdepth / 8`, i.e. 4 at QD 32).

use nvmeplan_device::DeviceUri;
use nvmeplan_driver::ioworker::{IoOp, IoSizeSpec, IoWorkerConfig, WorkerResult, run_workers};
use nvmeplan_driver::{Controller, ControllerOptions, DmaBuffer, Transport, VerifyMap, stamp_block};
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

fn open_transport(uri: &str) -> Arc<dyn Transport> {
    let uri = DeviceUri::parse(uri).expect("device URI");
    nvmeplan_device::open_transport(&uri).expect("open sim").transport
}

fn open(uri: &str) -> Controller {
    Controller::open(open_transport(uri), ControllerOptions::default()).expect("bring-up")
}

/// CPU time (user + system) of the whole process, exited threads included.
fn process_cpu() -> Duration {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage writes a `rusage` into the valid pointer.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, usage.as_mut_ptr()) };
    assert_eq!(rc, 0, "getrusage");
    // SAFETY: initialized by the successful call (and zeroed before).
    let u = unsafe { usage.assume_init() };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, (t.tv_usec as u32) * 1000);
    tv(u.ru_utime) + tv(u.ru_stime)
}

fn randread(secs: u64, record_latency: bool) -> IoWorkerConfig {
    let mut c = IoWorkerConfig::new(1);
    c.io_size = IoSizeSpec::Fixed(8);
    c.lba_random_percent = 100;
    c.qdepth = 32;
    c.io_count = None;
    c.time = Some(Duration::from_secs(secs));
    c.record_latency = record_latency;
    c.submit_batch = std::env::var("SUBMIT_BATCH").ok().and_then(|v| v.parse().ok());
    c
}

fn run_one(ctrl: &Controller, cfg: IoWorkerConfig, map: Option<Arc<VerifyMap>>) -> WorkerResult {
    let stop = AtomicBool::new(false);
    let r = run_workers(ctrl, &[cfg], map, &stop, None).expect("run_workers");
    let w = r.workers.into_iter().next().expect("one worker");
    assert!(w.first_error.is_none(), "error: {:?}", w.first_error);
    w
}

fn host(cfg: IoWorkerConfig) {
    let ctrl = open("sim:data=null,latency=none");
    let main0 = nvmeplan_driver::ioworker::thread_cpu_time();
    let cpu0 = process_cpu();
    let t0 = Instant::now();
    let w = run_one(&ctrl, cfg, None);
    let wall = t0.elapsed();
    let main_cpu = nvmeplan_driver::ioworker::thread_cpu_time().saturating_sub(main0);
    // Everything but the worker thread and this thread: the simulator's SQ
    // threads (and its idle timer thread).
    let worker_cpu = Duration::from_nanos((w.cpu_ns_per_io * w.io_total as f64) as u64);
    let sim_cpu = process_cpu().saturating_sub(cpu0).saturating_sub(worker_cpu).saturating_sub(main_cpu);
    let sim_ns = sim_cpu.as_nanos() as f64 / w.io_total.max(1) as f64;
    println!(
        "{{\"mode\":\"host\",\"iops\":{:.0},\"host_cpu_ns_per_io\":{:.1},\"host_busy_ns_per_io\":{:.1},\"host_cpu_percent\":{:.1},\"sim_cpu_ns_per_cmd\":{:.1},\"sim_cpu_percent\":{:.1},\"sim_cmds_per_cpu_second\":{:.0},\"p50_ns\":{},\"p99_ns\":{}}}",
        w.iops,
        w.cpu_ns_per_io,
        w.busy_ns_per_io,
        w.cpu_percent,
        sim_ns,
        sim_cpu.as_secs_f64() / wall.as_secs_f64() * 100.0,
        if sim_ns > 0.0 { 1e9 / sim_ns } else { 0.0 },
        w.latency.map_or(0, |l| l.p50_ns),
        w.latency.map_or(0, |l| l.p99_ns),
    );
}

/// IOPS and CPU ns/IO averaged over two runs.
struct Mean {
    iops: f64,
    cpu_ns_per_io: f64,
}

fn mean(a: &WorkerResult, b: &WorkerResult) -> Mean {
    Mean { iops: (a.iops + b.iops) / 2.0, cpu_ns_per_io: (a.cpu_ns_per_io + b.cpu_ns_per_io) / 2.0 }
}

fn latency(secs: u64) {
    let ctrl = open("sim:data=null,latency=none");
    // Alternate on/off twice so neither side gets the warm or cold slot.
    let on1 = run_one(&ctrl, randread(secs, true), None);
    let off1 = run_one(&ctrl, randread(secs, false), None);
    let off2 = run_one(&ctrl, randread(secs, false), None);
    let on2 = run_one(&ctrl, randread(secs, true), None);
    let (on, off) = (mean(&on1, &on2), mean(&off1, &off2));
    println!(
        "{{\"mode\":\"latency\",\"iops_on\":{:.0},\"iops_off\":{:.0},\"cost_percent\":{:.2},\"cpu_ns_on\":{:.1},\"cpu_ns_off\":{:.1}}}",
        on.iops,
        off.iops,
        (1.0 - on.iops / off.iops) * 100.0,
        on.cpu_ns_per_io,
        off.cpu_ns_per_io
    );
}

fn verify(secs: u64) {
    let ctrl = open("sim:latency=none");
    let region = 64 * 1024 * 2; // 64 MiB of 512-byte blocks
    let map = Arc::new(VerifyMap::new());
    let mut fill = IoWorkerConfig::new(1);
    fill.op_mix = vec![(IoOp::Write, 100)];
    fill.io_size = IoSizeSpec::Fixed(256);
    fill.qdepth = 32;
    fill.region_end = Some(region);
    fill.io_count = Some(region / 256);
    fill.verify = true;
    let fill_cfg = fill.clone();
    run_one(&ctrl, fill, Some(map.clone()));
    let mk = |verify: bool| {
        let mut c = randread(secs, true).read_percentage(70);
        c.region_end = Some(region);
        c.verify = verify;
        c
    };
    // Unverified writes make the region unknown in the map (so later
    // checks stay correct); write it again before each verified run.
    let refill = || run_one(&ctrl, fill_cfg.clone(), Some(map.clone()));
    let on1 = run_one(&ctrl, mk(true), Some(map.clone()));
    let off1 = run_one(&ctrl, mk(false), Some(map.clone()));
    let off2 = run_one(&ctrl, mk(false), Some(map.clone()));
    refill();
    let on2 = run_one(&ctrl, mk(true), Some(map.clone()));
    assert_eq!(on1.mismatch_count + on2.mismatch_count, 0);
    let (on, off) = (mean(&on1, &on2), mean(&off1, &off2));
    println!(
        "{{\"mode\":\"verify\",\"iops_on\":{:.0},\"iops_off\":{:.0},\"cost_percent\":{:.2},\"cpu_ns_on\":{:.1},\"cpu_ns_off\":{:.1}}}",
        on.iops,
        off.iops,
        (1.0 - on.iops / off.iops) * 100.0,
        on.cpu_ns_per_io,
        off.cpu_ns_per_io
    );
}

fn crc() {
    const BLOCK: usize = 4096;
    const LEN: usize = 256 << 20;
    let blocks = LEN / BLOCK;
    // The memory IO data lands in: a DMA buffer of the simulator transport
    // (on 2 MiB pages where the kernel grants them, as VFIO's are).
    let transport = open_transport("sim");
    let mut dma = DmaBuffer::new(&transport, LEN).expect("DMA buffer");
    let buf = dma.as_mut_slice();
    for (i, b) in buf.chunks_exact_mut(BLOCK).enumerate() {
        for (j, x) in b.iter_mut().enumerate() {
            *x = (i * 31 + j * 7) as u8;
        }
        stamp_block(b, i as u64, 1);
    }
    let map = VerifyMap::new();
    map.record_writes(0, buf, BLOCK);
    // Plain read pass.
    let mut best_mem = f64::MAX;
    let mut sum = 0u64;
    for _ in 0..3 {
        let t = Instant::now();
        for w in buf.chunks_exact(8) {
            sum = sum.wrapping_add(u64::from_ne_bytes(w.try_into().expect("8 bytes")));
        }
        best_mem = best_mem.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(sum);
    // CRC + stamp check via the verify map.
    let mut best_crc = f64::MAX;
    let mut out = Vec::new();
    for _ in 0..3 {
        let t = Instant::now();
        let bad = map.check_blocks(0, buf, BLOCK, &mut out).mismatched;
        best_crc = best_crc.min(t.elapsed().as_secs_f64());
        assert_eq!(bad, 0);
    }
    // Raw CRC32 alone, for reference.
    let mut best_raw = f64::MAX;
    let mut acc = 0u32;
    for _ in 0..3 {
        let t = Instant::now();
        for b in buf.chunks_exact(BLOCK) {
            acc ^= crc32fast::hash(b);
        }
        best_raw = best_raw.min(t.elapsed().as_secs_f64());
    }
    std::hint::black_box(acc);
    // The same check on 256 KiB that stays in cache (compute bound).
    const SMALL: usize = 256 << 10;
    let reps = LEN / SMALL;
    let mut best_cached = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        for _ in 0..reps {
            out.clear();
            map.check_blocks(0, &buf[..SMALL], BLOCK, &mut out);
        }
        best_cached = best_cached.min(t.elapsed().as_secs_f64());
        assert!(out.is_empty());
    }
    let gbs = |s: f64| LEN as f64 / s / 1e9;
    println!(
        "{{\"mode\":\"crc\",\"check_gbps\":{:.2},\"check_cached_gbps\":{:.2},\"crc_only_gbps\":{:.2},\"memread_gbps\":{:.2},\"check_vs_memread_percent\":{:.1},\"blocks\":{}}}",
        gbs(best_crc),
        gbs(best_cached),
        gbs(best_raw),
        gbs(best_mem),
        gbs(best_crc) / gbs(best_mem) * 100.0,
        blocks
    );
}

fn fio(path: &str) {
    let text = std::fs::read_to_string(path).expect("read fio output");
    // fio may print notes before the JSON document.
    let json = &text[text.find('{').expect("fio JSON")..];
    let v: serde_json::Value = serde_json::from_str(json).expect("fio JSON");
    let job = &v["jobs"][0];
    let iops = job["read"]["iops"].as_f64().unwrap_or(0.0);
    let ios = job["read"]["total_ios"].as_f64().unwrap_or(0.0);
    let runtime_ms = job["job_runtime"].as_f64().or_else(|| job["read"]["runtime"].as_f64()).unwrap_or(0.0);
    let cpu = job["usr_cpu"].as_f64().unwrap_or(0.0) + job["sys_cpu"].as_f64().unwrap_or(0.0);
    let ns_per_io = if ios > 0.0 { cpu / 100.0 * runtime_ms * 1e6 / ios } else { 0.0 };
    println!(
        "{{\"mode\":\"fio\",\"iops\":{iops:.0},\"cpu_ns_per_io\":{ns_per_io:.1},\"cpu_percent\":{cpu:.1}}}"
    );
}

/// Median of every numeric field per mode.
fn medians(path: &str) -> std::collections::BTreeMap<String, serde_json::Map<String, serde_json::Value>> {
    use std::collections::BTreeMap;
    let text = std::fs::read_to_string(path).expect("read results");
    let mut by_mode: BTreeMap<String, BTreeMap<String, Vec<f64>>> = BTreeMap::new();
    for line in text.lines().filter(|l| l.trim_start().starts_with('{')) {
        let v: serde_json::Value = serde_json::from_str(line).expect("JSON line");
        let mode = v["mode"].as_str().unwrap_or("?").to_string();
        for (k, x) in v.as_object().into_iter().flatten() {
            if let Some(f) = x.as_f64() {
                by_mode.entry(mode.clone()).or_default().entry(k.clone()).or_default().push(f);
            }
        }
    }
    by_mode
        .into_iter()
        .map(|(mode, fields)| {
            let mut m = serde_json::Map::new();
            for (k, mut v) in fields {
                v.sort_by(f64::total_cmp);
                m.insert(format!("{k}_runs"), serde_json::json!(v.len()));
                m.insert(k, serde_json::json!(v[v.len() / 2]));
            }
            (mode, m)
        })
        .collect()
}

fn report(path: &str, out: &str) {
    let m = medians(path);
    let get =
        |mode: &str, k: &str| m.get(mode).and_then(|f| f.get(k)).and_then(|v| v.as_f64()).unwrap_or(f64::NAN);
    let verdict = |ok: bool| if ok { "met" } else { "MISSED" };
    let (iops, fio_iops) = (get("host", "iops"), get("fio", "iops"));
    let ratio = iops / fio_iops;
    let host_ns = get("host", "host_cpu_ns_per_io");
    let (check, memread) = (get("crc", "check_gbps"), get("crc", "memread_gbps"));
    let verify_cost = get("verify", "cost_percent");
    let lat_cost = get("latency", "cost_percent");
    let rows: Vec<[String; 4]> = vec![
        [
            "1 IOPS, 4K randread QD32, sim null".into(),
            format!("{iops:.0} vs fio null {fio_iops:.0} ({ratio:.2}x)"),
            ">= 1.5x fio".into(),
            verdict(ratio >= 1.5).into(),
        ],
        [
            "1 host thread CPU ns/IO".into(),
            format!("{host_ns:.0} (fio {:.0})", get("fio", "cpu_ns_per_io")),
            "<= 100".into(),
            verdict(host_ns <= 100.0).into(),
        ],
        [
            "1 host busy ns/IO (no idle polling)".into(),
            format!("{:.0}", get("host", "host_busy_ns_per_io")),
            "(info)".into(),
            "".into(),
        ],
        [
            "1 sim SQ thread CPU ns/command".into(),
            format!(
                "{:.0} = {:.2} M cmds per CPU-second",
                get("host", "sim_cpu_ns_per_cmd"),
                get("host", "sim_cmds_per_cpu_second") / 1e6
            ),
            "(info)".into(),
            "".into(),
        ],
        [
            "2 CRC32+stamp check, 4K blocks, DRAM".into(),
            format!(
                "{check:.1} GB/s vs memread {memread:.1} GB/s ({:.0}%); in cache {:.1} GB/s",
                check / memread * 100.0,
                get("crc", "check_cached_gbps")
            ),
            ">= 12 GB/s, >= 40%".into(),
            verdict(check >= 12.0 && check / memread >= 0.4).into(),
        ],
        [
            "3 verify on vs off, 70/30 QD32 sim".into(),
            format!(
                "on {:.0} / off {:.0} IOPS; cost {verify_cost:.1}% (median of runs)",
                get("verify", "iops_on"),
                get("verify", "iops_off")
            ),
            "<= 25%".into(),
            verdict(verify_cost <= 25.0).into(),
        ],
        [
            "4 latency recording on vs off".into(),
            format!(
                "on {:.0} / off {:.0} IOPS; cost {lat_cost:.1}% (median of runs)",
                get("latency", "iops_on"),
                get("latency", "iops_off")
            ),
            "<= 10%".into(),
            verdict(lat_cost <= 10.0).into(),
        ],
    ];
    let w: Vec<usize> = (0..4).map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0)).collect();
    let line = |r: &[String; 4]| {
        println!(
            "| {:w0$} | {:w1$} | {:w2$} | {:w3$} |",
            r[0],
            r[1],
            r[2],
            r[3],
            w0 = w[0],
            w1 = w[1],
            w2 = w[2],
            w3 = w[3]
        )
    };
    line(&["benchmark (median of runs)".into(), "result".into(), "target".into(), "".into()]);
    println!(
        "|{}|{}|{}|{}|",
        "-".repeat(w[0] + 2),
        "-".repeat(w[1] + 2),
        "-".repeat(w[2] + 2),
        "-".repeat(w[3] + 2)
    );
    for r in &rows {
        line(r);
    }
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    println!("(load average at the end: {})", load.split_whitespace().take(3).collect::<Vec<_>>().join(" "));
    let doc = serde_json::json!({
        "medians": m,
        "cpus": std::thread::available_parallelism().map_or(0, |n| n.get()),
        "loadavg": load.trim(),
    });
    std::fs::write(out, serde_json::to_string_pretty(&doc).expect("JSON")).expect("write bench.json");
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let mode = args.get(1).map(String::as_str).unwrap_or("host");
    let secs = args.get(2).and_then(|s| s.parse().ok()).unwrap_or(5);
    match mode {
        "host" => host(randread(secs, true)),
        "host-ios" => {
            let mut cfg = randread(secs, true);
            cfg.time = None;
            cfg.io_count = Some(secs);
            host(cfg)
        }
        "latency" => latency(secs),
        "verify" => verify(secs),
        "crc" => crc(),
        "fio" => fio(args.get(2).expect("fio json file")),
        "report" => report(args.get(2).expect("jsonl file"), args.get(3).expect("output json")),
        other => {
            eprintln!("unknown mode {other}; use host, host-ios, latency, verify, crc, fio or report");
            std::process::exit(2);
        }
    }
}
