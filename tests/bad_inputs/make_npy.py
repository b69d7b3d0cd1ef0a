#!/usr/bin/env python3
# Writes the malformed (and two good) .npy files of the bad-input corpus into npy/ (stdlib only;
# the files are committed, this script documents how they were made).
import os
import struct

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "npy")


def header(descr="'<f8'", fortran="False", shape="(2, 2)", version=b"\x01\x00", extra=""):
    h = "{'descr': %s, 'fortran_order': %s, 'shape': %s, %s}" % (descr, fortran, shape, extra)
    h = h.encode("latin1")
    pad = 64 - (10 + len(h) + 1) % 64
    h = h + b" " * pad + b"\n"
    return b"\x93NUMPY" + version + struct.pack("<H", len(h)) + h


def f64(*v):
    return struct.pack("<%dd" % len(v), *v)


FILES = {
    "good_2d.npy": header() + f64(0, 0, 1, 1),
    "good_3d.npy": header(shape="(2, 3)") + f64(0, 0, 0, 1, 1, 1),
    "empty_file.npy": b"",
    "bad_magic.npy": b"\x93NUMPZ\x01\x00" + header()[8:] + f64(0, 0, 1, 1),
    "magic_only.npy": b"\x93NUMPY",
    "bad_version.npy": header(version=b"\x09\x00") + f64(0, 0, 1, 1),
    "header_len_past_end.npy": b"\x93NUMPY\x01\x00\xff\x7f{'descr': '<f8'",
    "truncated_header.npy": header()[:40],
    "int32.npy": header(descr="'<i4'") + struct.pack("<4i", 0, 0, 1, 1),
    "big_endian.npy": header(descr="'>f8'") + struct.pack(">4d", 0, 0, 1, 1),
    "float16.npy": header(descr="'<f2'") + b"\x00" * 8,
    "complex.npy": header(descr="'<c16'") + b"\x00" * 64,
    "object.npy": header(descr="'|O'") + b"\x00" * 32,
    "fortran.npy": header(fortran="True") + f64(0, 0, 1, 1),
    "rank1.npy": header(shape="(4,)") + f64(0, 0, 1, 1),
    "rank3.npy": header(shape="(1, 2, 2)") + f64(0, 0, 1, 1),
    "rank0.npy": header(shape="()") + f64(1),
    "zero_rows.npy": header(shape="(0, 2)"),
    "zero_cols.npy": header(shape="(2, 0)"),
    "short_data.npy": header() + f64(0, 0, 1),
    "long_data.npy": header() + f64(0, 0, 1, 1, 2),
    "nan_value.npy": header() + f64(0, float("nan"), 1, 1),
    "inf_value.npy": header() + f64(0, 0, float("inf"), 1),
    "negative_shape.npy": header(shape="(-2, 2)") + f64(0, 0, 1, 1),
    "huge_shape.npy": header(shape="(1000000000000000000, 2)") + f64(0, 0, 1, 1),
    "overflow_shape.npy": header(shape="(4611686018427387904, 4611686018427387904)") + f64(0, 0, 1, 1),
    "not_a_dict.npy": b"\x93NUMPY\x01\x00" + struct.pack("<H", 54) + b"[1, 2, 3]".ljust(53) + b"\n" + f64(0, 0, 1, 1),
    "missing_descr.npy": b"\x93NUMPY\x01\x00" + struct.pack("<H", 54) + b"{'fortran_order': False, 'shape': (2, 2), }".ljust(53) + b"\n" + f64(0, 0, 1, 1),
    "missing_shape.npy": b"\x93NUMPY\x01\x00" + struct.pack("<H", 54) + b"{'descr': '<f8', 'fortran_order': False, }".ljust(53) + b"\n" + f64(0, 0, 1, 1),
    "garbage_shape.npy": header(shape="(two, 2)") + f64(0, 0, 1, 1),
    "binary_header.npy": b"\x93NUMPY\x01\x00" + struct.pack("<H", 54) + bytes(range(200, 253)) + b"\n" + f64(0, 0, 1, 1),
}

if __name__ == "__main__":
    os.makedirs(HERE, exist_ok=True)
    for name, data in FILES.items():
        with open(os.path.join(HERE, name), "wb") as f:
            f.write(data)
