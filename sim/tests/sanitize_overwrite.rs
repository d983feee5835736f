//! Sanitize Overwrite through the admin and I/O queues: the Overwrite
//! Pattern is what every block reads afterwards (inverted for an even pass
//! count with OIPBP), the status log reports the completion, and the other
//! sanitize actions still leave zeros.

mod common;

use common::*;
use nvmeplan_spec::log::{SanitizeStatusLog, sanitize};
use nvmeplan_spec::{Command, Status};
use std::time::{Duration, Instant};
use zerocopy::FromBytes;

const NLB: u64 = (1 << 30) / 512;

fn rw(op: u8, slba: u64, buf: u64) -> Command {
    let mut c = Command::new(op, 1);
    c.set_slba(slba);
    c.prp1 = buf;
    c
}

/// Runs one single-block Read (0x02) or Write (0x01) on I/O queue 1.
fn io_block(host: &mut Host, io: &mut [QueuePair], op: u8, slba: u64, buf: u64) -> Status {
    host.submit_on(Some(0), io, rw(op, slba, buf));
    host.poll_on(Some(0), io, Duration::from_secs(5)).expect("I/O completion").status()
}

fn read_block(host: &mut Host, io: &mut [QueuePair], slba: u64, buf: u64) -> Vec<u8> {
    host.mem.write(buf, &[0xEE; 512]);
    assert_eq!(io_block(host, io, 0x02, slba, buf), Status::SUCCESS, "read of LBA {slba}");
    host.mem.read(buf, 512)
}

fn pattern_block(pattern: u32) -> Vec<u8> {
    pattern.to_le_bytes().repeat(128)
}

/// Starts a sanitize and waits for its status log to leave "in progress".
fn sanitize_and_wait(host: &mut Host, cdw10: u32, cdw11: u32) -> SanitizeStatusLog {
    let mut c = Command::new(0x84, 0);
    c.cdw10 = cdw10;
    c.cdw11 = cdw11;
    assert_eq!(host.admin(c).status(), Status::SUCCESS);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let (r, data) = host.admin_read(get_log(0x81, 512, 0), 512);
        assert!(r.status().is_success());
        let log = SanitizeStatusLog::read_from_bytes(&data).unwrap();
        if log.status() != sanitize::STATUS_IN_PROGRESS {
            return log;
        }
        assert!(Instant::now() < deadline, "sanitize did not complete");
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[test]
fn overwrite_leaves_the_pattern_in_every_block() {
    let mut host = ready_host(fast_config());
    let mut io = vec![host.create_io_pair(1, 8)];
    let buf = host.alloc(4096);
    host.mem.write(buf, &[0x11; 512]);
    assert_eq!(io_block(&mut host, &mut io, 0x01, 100, buf), Status::SUCCESS);

    // One pass of 0xA5A5_5A5A.
    let cdw10 = u32::from(sanitize::OVERWRITE) | (1 << sanitize::CDW10_OWPASS_SHIFT);
    let log = sanitize_and_wait(&mut host, cdw10, 0xA5A5_5A5A);
    assert_eq!(log.status(), sanitize::STATUS_COMPLETED);
    assert_eq!(log.sprog, 0xFFFF);
    assert_eq!(log.overwrite_passes(), 1);
    assert!(log.global_data_erased());
    assert_eq!(log.scdw10, cdw10);
    let pattern = pattern_block(0xA5A5_5A5A);
    assert_eq!(pattern[..4], [0x5A, 0x5A, 0xA5, 0xA5], "little-endian, as every NVMe dword");
    for lba in [0, 1, 100, 4097, NLB / 2, NLB - 1] {
        assert_eq!(read_block(&mut host, &mut io, lba, buf), pattern, "LBA {lba}");
    }
    // A write replaces the pattern of its block only.
    host.mem.write(buf, &[0x22; 512]);
    assert_eq!(io_block(&mut host, &mut io, 0x01, 100, buf), Status::SUCCESS);
    assert_eq!(read_block(&mut host, &mut io, 100, buf), vec![0x22; 512]);
    assert_eq!(read_block(&mut host, &mut io, 101, buf), pattern);

    // OIPBP with two passes: the second (last) pass wrote the inverse.
    let cdw10 = u32::from(sanitize::OVERWRITE) | (2 << sanitize::CDW10_OWPASS_SHIFT) | sanitize::CDW10_OIPBP;
    let log = sanitize_and_wait(&mut host, cdw10, 0xA5A5_5A5A);
    assert_eq!((log.status(), log.overwrite_passes()), (sanitize::STATUS_COMPLETED, 2));
    for lba in [0, 100, NLB - 1] {
        assert_eq!(read_block(&mut host, &mut io, lba, buf), pattern_block(0x5A5A_A5A5), "LBA {lba}");
    }
    // OIPBP with three passes ends on the pattern itself.
    let cdw10 = u32::from(sanitize::OVERWRITE) | (3 << sanitize::CDW10_OWPASS_SHIFT) | sanitize::CDW10_OIPBP;
    sanitize_and_wait(&mut host, cdw10, 0x1234_5678);
    assert_eq!(read_block(&mut host, &mut io, 7, buf), pattern_block(0x1234_5678));

    // Block erase and crypto erase leave zeros.
    for action in [sanitize::BLOCK_ERASE, sanitize::CRYPTO_ERASE] {
        let log = sanitize_and_wait(&mut host, u32::from(action), 0xA5A5_5A5A);
        assert_eq!((log.status(), log.overwrite_passes()), (sanitize::STATUS_COMPLETED, 0));
        for lba in [0, 100, NLB - 1] {
            assert_eq!(
                read_block(&mut host, &mut io, lba, buf),
                vec![0; 512],
                "LBA {lba} after action {action}"
            );
        }
    }
}

#[test]
fn format_after_overwrite_reads_zeros() {
    let mut host = ready_host(fast_config());
    let mut io = vec![host.create_io_pair(1, 8)];
    let buf = host.alloc(4096);
    let cdw10 = u32::from(sanitize::OVERWRITE) | (1 << sanitize::CDW10_OWPASS_SHIFT);
    sanitize_and_wait(&mut host, cdw10, 0xFFFF_0000);
    assert_eq!(read_block(&mut host, &mut io, 5, buf), pattern_block(0xFFFF_0000));
    let fmt = Command::new(0x80, 1);
    assert_eq!(host.admin(fmt).status(), Status::SUCCESS);
    assert_eq!(read_block(&mut host, &mut io, 5, buf), vec![0; 512]);
}
