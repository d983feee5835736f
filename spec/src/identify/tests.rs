//! Layout and behaviour tests of the identify data structures.

use super::*;
use std::mem::offset_of;

#[test]
fn controller_offsets_match_spec() {
    let expected = [
        (offset_of!(IdentifyController, vid), 0),
        (offset_of!(IdentifyController, sn), 4),
        (offset_of!(IdentifyController, mn), 24),
        (offset_of!(IdentifyController, fr), 64),
        (offset_of!(IdentifyController, rab), 72),
        (offset_of!(IdentifyController, ieee), 73),
        (offset_of!(IdentifyController, mdts), 77),
        (offset_of!(IdentifyController, cntlid), 78),
        (offset_of!(IdentifyController, ver), 80),
        (offset_of!(IdentifyController, ctratt), 96),
        (offset_of!(IdentifyController, rrls), 100),
        (offset_of!(IdentifyController, cntrltype), 111),
        (offset_of!(IdentifyController, fguid), 112),
        (offset_of!(IdentifyController, crdt1), 128),
        (offset_of!(IdentifyController, crdt3), 132),
        (offset_of!(IdentifyController, nvmsr), 253),
        (offset_of!(IdentifyController, mec), 255),
        (offset_of!(IdentifyController, oacs), 256),
        (offset_of!(IdentifyController, frmw), 260),
        (offset_of!(IdentifyController, npss), 263),
        (offset_of!(IdentifyController, wctemp), 266),
        (offset_of!(IdentifyController, mtfa), 270),
        (offset_of!(IdentifyController, hmpre), 272),
        (offset_of!(IdentifyController, tnvmcap), 280),
        (offset_of!(IdentifyController, unvmcap), 296),
        (offset_of!(IdentifyController, rpmbs), 312),
        (offset_of!(IdentifyController, edstt), 316),
        (offset_of!(IdentifyController, fwug), 319),
        (offset_of!(IdentifyController, kas), 320),
        (offset_of!(IdentifyController, mxtmt), 326),
        (offset_of!(IdentifyController, sanicap), 328),
        (offset_of!(IdentifyController, hmminds), 332),
        (offset_of!(IdentifyController, hmmaxd), 336),
        (offset_of!(IdentifyController, nsetidmax), 338),
        (offset_of!(IdentifyController, endgidmax), 340),
        (offset_of!(IdentifyController, anatt), 342),
        (offset_of!(IdentifyController, anagrpmax), 344),
        (offset_of!(IdentifyController, nanagrpid), 348),
        (offset_of!(IdentifyController, pels), 352),
        (offset_of!(IdentifyController, domainid), 356),
        (offset_of!(IdentifyController, megcap), 368),
        (offset_of!(IdentifyController, sqes), 512),
        (offset_of!(IdentifyController, maxcmd), 514),
        (offset_of!(IdentifyController, nn), 516),
        (offset_of!(IdentifyController, oncs), 520),
        (offset_of!(IdentifyController, fna), 524),
        (offset_of!(IdentifyController, vwc), 525),
        (offset_of!(IdentifyController, awun), 526),
        (offset_of!(IdentifyController, nwpc), 531),
        (offset_of!(IdentifyController, cdfs), 534),
        (offset_of!(IdentifyController, sgls), 536),
        (offset_of!(IdentifyController, mnan), 540),
        (offset_of!(IdentifyController, maxdna), 544),
        (offset_of!(IdentifyController, maxcna), 560),
        (offset_of!(IdentifyController, oaqd), 564),
        (offset_of!(IdentifyController, subnqn), 768),
        (offset_of!(IdentifyController, ioccsz), 1792),
        (offset_of!(IdentifyController, ofcs), 1804),
        (offset_of!(IdentifyController, psd), 2048),
        (offset_of!(IdentifyController, vs), 3072),
    ];
    for (i, (got, want)) in expected.iter().enumerate() {
        assert_eq!(got, want, "entry {i}");
    }
}

#[test]
fn controller_bytes_at_spec_offsets() {
    let mut c = IdentifyController::zeroed();
    c.vid = 0x1B36;
    c.set_serial("SN123");
    c.set_model("nvmeplan sim");
    c.set_firmware_revision("1.0");
    c.mdts = 5;
    c.oacs = oacs::FORMAT_NVM | oacs::FIRMWARE;
    c.sqes = 0x66;
    c.cqes = 0x44;
    c.nn = 0x0102_0304;
    c.sanicap = sanicap::CRYPTO_ERASE | sanicap::BLOCK_ERASE;
    set_le_uint(&mut c.tnvmcap, 1 << 40);
    c.set_subsystem_nqn("nqn.2014-08.org.nvmexpress:sim");
    c.psd[1].mp = 0x0A0B;
    c.vs[0] = 0xEE;

    let b = c.as_bytes();
    assert_eq!(&b[0..2], &[0x36, 0x1B]);
    assert_eq!(&b[4..9], b"SN123");
    assert_eq!(b[9], b' ');
    assert_eq!(b[23], b' ');
    assert_eq!(&b[24..36], b"nvmeplan sim");
    assert_eq!(&b[64..72], b"1.0     ");
    assert_eq!(b[77], 5);
    assert_eq!(&b[256..258], &[0x06, 0x00]);
    assert_eq!(&b[280..296], &(1u128 << 40).to_le_bytes());
    assert_eq!(&b[328..332], &[0x03, 0, 0, 0]);
    assert_eq!(b[512], 0x66);
    assert_eq!(b[513], 0x44);
    assert_eq!(&b[516..520], &[0x04, 0x03, 0x02, 0x01]);
    assert_eq!(&b[768..772], b"nqn.");
    assert_eq!(b[1023], 0);
    assert_eq!(&b[2048 + 32..2048 + 34], &[0x0B, 0x0A]);
    assert_eq!(b[3072], 0xEE);

    let back = IdentifyController::read_from_bytes(b).unwrap();
    assert_eq!(back, c);
    assert_eq!(back.serial(), "SN123");
    assert_eq!(back.model(), "nvmeplan sim");
    assert_eq!(back.firmware_revision(), "1.0");
    assert_eq!(back.subsystem_nqn(), "nqn.2014-08.org.nvmexpress:sim");
    assert_eq!(back.mdts_bytes(4096), Some(4096 << 5));
}

#[test]
fn mdts_zero_is_unlimited() {
    let c = IdentifyController::zeroed();
    assert_eq!(c.mdts_bytes(4096), None);
}

#[test]
fn ascii_helpers_pad_and_truncate() {
    let mut f = [0u8; 4];
    set_ascii(&mut f, "abcdef");
    assert_eq!(&f, b"abcd");
    set_ascii(&mut f, "x");
    assert_eq!(&f, b"x   ");
    assert_eq!(ascii_field(&f), "x");
    let mut n = [0xFFu8; 4];
    set_nul_terminated(&mut n, "abcdef");
    assert_eq!(&n, b"abc\0");
}

#[test]
fn controller_named_fields() {
    let mut c = IdentifyController::zeroed();
    c.nn = 16;
    c.set_serial("S1");
    c.frmw = frmw::encode(true, 3, true);
    set_le_uint(&mut c.tnvmcap, 123_456_789_012);
    assert_eq!(c.field("nn"), Some(FieldValue::Int(16)));
    assert_eq!(c.field("sn"), Some(FieldValue::Text("S1".into())));
    assert_eq!(c.field("tnvmcap"), Some(FieldValue::Int(123_456_789_012)));
    assert_eq!(c.field("frmw"), Some(FieldValue::Int(0b1_0111)));
    assert_eq!(c.firmware_slots(), 3);
    assert_eq!(c.field("rsvd134"), None);
    assert_eq!(c.field("nope"), None);
    let fields = c.fields();
    let mut names: Vec<_> = fields.iter().map(|(n, _)| *n).collect();
    names.sort_unstable();
    let before = names.len();
    names.dedup();
    assert_eq!(before, names.len(), "duplicate field names");
}

#[test]
fn namespace_offsets_and_bytes() {
    assert_eq!(offset_of!(IdentifyNamespace, flbas), 26);
    assert_eq!(offset_of!(IdentifyNamespace, nawun), 34);
    assert_eq!(offset_of!(IdentifyNamespace, nvmcap), 48);
    assert_eq!(offset_of!(IdentifyNamespace, npwg), 64);
    assert_eq!(offset_of!(IdentifyNamespace, mcl), 76);
    assert_eq!(offset_of!(IdentifyNamespace, msrc), 80);
    assert_eq!(offset_of!(IdentifyNamespace, nulbaf), 82);
    assert_eq!(offset_of!(IdentifyNamespace, anagrpid), 92);
    assert_eq!(offset_of!(IdentifyNamespace, nsattr), 99);
    assert_eq!(offset_of!(IdentifyNamespace, nvmsetid), 100);
    assert_eq!(offset_of!(IdentifyNamespace, endgid), 102);
    assert_eq!(offset_of!(IdentifyNamespace, nguid), 104);
    assert_eq!(offset_of!(IdentifyNamespace, eui64), 120);
    assert_eq!(offset_of!(IdentifyNamespace, lbaf), 128);
    assert_eq!(offset_of!(IdentifyNamespace, vs), 3712);

    let mut ns = IdentifyNamespace::zeroed();
    ns.nsze = 0x1122_3344_5566_7788;
    ns.nlbaf = 1;
    ns.lbaf[0] = LbaFormat::new_format(9, 0, 2);
    ns.lbaf[1] = LbaFormat::new_format(12, 8, 0);
    ns.set_active_lba_format(1);
    ns.nguid = [0xAB; 16];
    let b = ns.as_bytes();
    assert_eq!(&b[0..8], &0x1122_3344_5566_7788u64.to_le_bytes());
    assert_eq!(b[26], 1);
    assert_eq!(&b[128..132], &[0, 0, 9, 2]);
    assert_eq!(&b[132..136], &[8, 0, 12, 0]);
    assert_eq!(&b[104..120], &[0xAB; 16]);
    assert_eq!(ns.lba_size(), 4096);
    assert_eq!(ns.metadata_size(), 8);
    assert_eq!(ns.field("lba_size"), Some(FieldValue::Int(4096)));
    assert_eq!(ns.field("ms"), Some(FieldValue::Int(8)));
    assert_eq!(ns.field("nsze"), Some(FieldValue::Int(0x1122_3344_5566_7788)));
    assert_eq!(ns.field("nguid"), Some(FieldValue::Bytes(vec![0xAB; 16])));
}

#[test]
fn flbas_upper_index_bits() {
    let mut ns = IdentifyNamespace::zeroed();
    ns.flbas = flbas::EXTENDED_METADATA;
    ns.lbaf[37] = LbaFormat::new_format(9, 16, 0);
    ns.set_active_lba_format(37);
    assert_eq!(ns.flbas, 0b0101_0101 | flbas::EXTENDED_METADATA);
    assert_eq!(ns.active_lba_format_index(), 37);
    assert_eq!(ns.lba_size(), 512);
    assert_eq!(ns.metadata_size(), 16);
    assert_eq!(LbaFormat::new().lba_size(), 0);
}

#[test]
fn namespace_list_iterates_non_zero_ids() {
    let list = NamespaceList::from_ids([1, 2, 7]);
    assert_eq!(list.as_bytes()[8..12], [7, 0, 0, 0]);
    assert_eq!(list.iter().collect::<Vec<_>>(), vec![1, 2, 7]);
    assert_eq!(list.len(), 3);
    assert!(NamespaceList::default().is_empty());
}

#[test]
fn descriptors_round_trip() {
    let eui = [1u8, 2, 3, 4, 5, 6, 7, 8];
    let nguid = [0x5Au8; 16];
    let data = encode_ns_descriptors(&[(nidt::EUI64, &eui), (nidt::NGUID, &nguid), (nidt::CSI, &[0])]);
    assert_eq!(&data[0..4], &[1, 8, 0, 0]);
    assert_eq!(&data[4..12], &eui);
    assert_eq!(&data[12..16], &[2, 16, 0, 0]);
    assert_eq!(&data[32..36], &[4, 1, 0, 0]);
    let decoded = decode_ns_descriptors(&data);
    assert_eq!(
        decoded,
        vec![(nidt::EUI64, eui.to_vec()), (nidt::NGUID, nguid.to_vec()), (nidt::CSI, vec![0])]
    );
    assert_eq!(nidt::length(nidt::UUID), Some(16));
    assert!(decode_ns_descriptors(&[1, 8, 0, 0, 1]).is_empty());
}

#[test]
fn field_value_display() {
    assert_eq!(FieldValue::Int(42).to_string(), "42");
    assert_eq!(FieldValue::Text("x".into()).to_string(), "x");
    assert_eq!(FieldValue::Bytes(vec![0xAB, 1]).to_string(), "ab01");
}

#[test]
fn byte_field_tables_place_fields_at_spec_offsets() {
    let at = |fields: &'static [ByteField], name: &str| {
        let f = fields.iter().find(|f| f.name == name).unwrap();
        (f.offset, f.len, f.kind)
    };
    let c = IdentifyController::BYTE_FIELDS;
    assert_eq!(at(c, "vid"), (0, 2, FieldKind::Int));
    assert_eq!(at(c, "sn"), (4, 20, FieldKind::Text));
    assert_eq!(at(c, "mdts"), (77, 1, FieldKind::Int));
    assert_eq!(at(c, "oacs"), (256, 2, FieldKind::Int));
    assert_eq!(at(c, "tnvmcap"), (280, 16, FieldKind::Int));
    assert_eq!(at(c, "nn"), (516, 4, FieldKind::Int));
    assert_eq!(at(c, "subnqn"), (768, 256, FieldKind::Text));
    let n = IdentifyNamespace::BYTE_FIELDS;
    assert_eq!(at(n, "nsze"), (0, 8, FieldKind::Int));
    assert_eq!(at(n, "flbas"), (26, 1, FieldKind::Int));
    assert_eq!(at(n, "mssrl"), (74, 2, FieldKind::Int));
    assert_eq!(at(n, "nguid"), (104, 16, FieldKind::Bytes));
    for table in [c, n] {
        for pair in table.windows(2) {
            assert!(
                pair[0].offset + pair[0].len <= pair[1].offset,
                "{} overlaps {}",
                pair[0].name,
                pair[1].name
            );
        }
        assert!(table.iter().all(|f| !f.meaning.is_empty() && f.offset + f.len <= 4096));
    }
    let mut id = IdentifyController::zeroed();
    id.nn = 7;
    set_ascii(&mut id.sn, "SN1");
    assert_eq!(at(c, "nn").0, 516);
    let nn = c.iter().find(|f| f.name == "nn").unwrap();
    assert_eq!(nn.read(id.as_bytes()), Some(FieldValue::Int(7)));
    assert_eq!(id.field("sn"), Some(FieldValue::Text("SN1".into())));
    assert_eq!(nn.read(&[0u8; 8]), None);
    let names: Vec<_> = IdentifyNamespace::zeroed().fields().into_iter().map(|(n, _)| n).collect();
    assert_eq!(names.len(), n.len() + 3);
    assert_eq!(&names[n.len()..], ["lba_format", "lba_size", "ms"]);
}

#[test]
fn copy_capabilities() {
    assert_eq!(oncs::COPY, 1 << 8);
    assert!(ocfs::supports(ocfs::FORMAT_0, 0));
    assert!(!ocfs::supports(ocfs::FORMAT_0, 1));
    assert!(!ocfs::supports(u16::MAX, 16));
    // MSSRL, MCL and MSRC sit at bytes 75:74, 79:76 and 80 with their names.
    let mut id = IdentifyNamespace::zeroed();
    id.mssrl = 128;
    id.mcl = 1024;
    id.msrc = 127;
    let bytes = id.as_bytes();
    assert_eq!(
        (&bytes[74..76], &bytes[76..80], bytes[80]),
        (&[128u8, 0][..], &1024u32.to_le_bytes()[..], 127)
    );
    let fields = id.fields();
    let get = |name| fields.iter().find(|(n, _)| *n == name).map(|(_, v)| v.clone());
    assert_eq!(get("mssrl"), Some(128u64.into()));
    assert_eq!(get("mcl"), Some(1024u64.into()));
    assert_eq!(get("msrc"), Some(127u64.into()));
}
