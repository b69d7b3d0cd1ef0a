#!/usr/bin/env python3
# Writes the malformed (and a few good) IDX files and images of the bad-input corpus into idx/
# and image/ (stdlib only; the files are committed, this script documents how they were made).
import gzip
import os
import struct
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def idx(type_, dims, body=b""):
    return b"\x00\x00" + bytes([type_, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + body


def gz(data):
    return gzip.compress(data, mtime=0)


# 50 points in [0, 1]^2 (u8 / 255) and 6 f32 points in R^2.
GOOD_U8 = idx(0x08, [50, 2], bytes((7 * i) % 256 for i in range(100)))
GOOD_F32 = idx(0x0D, [6, 2], struct.pack(">12f", *[0.5 * i - 1 for i in range(12)]))
GZ = gz(GOOD_U8)

IDX = {
    "good_u8.idx": GOOD_U8,
    "good_f32.idx": GOOD_F32,
    "good_gzip.idx": GZ,
    "empty.idx": b"",
    "truncated_header.idx": b"\x00\x00\x08",
    "bad_magic.idx": b"\x01\x08" + GOOD_U8[2:],
    "text.idx": b"x,y\n0.1,0.2\n",
    "unknown_type.idx": idx(0x0A, [50, 2], GOOD_U8[12:]),
    "rank_zero.idx": idx(0x08, [], GOOD_U8[12:]),
    "rank_nine.idx": idx(0x08, [1] * 9, b"\x01"),
    "truncated_dims.idx": GOOD_U8[:10],
    "zero_items.idx": idx(0x08, [0, 2]),
    "zero_dim.idx": idx(0x08, [50, 0]),
    "huge_dims.idx": idx(0x08, [65536, 65536, 4], b"\x00" * 16),
    "overflow_dims.idx": idx(0x0E, [0xFFFFFFFF] * 8),
    "claims_2g_values.idx": idx(0x08, [32768, 65536], b"\x00" * 16),
    "truncated_body.idx": GOOD_U8[:-1],
    "nan_f32.idx": GOOD_F32[:-4] + struct.pack(">f", float("nan")),
    "inf_f64.idx": idx(0x0E, [1, 2], struct.pack(">2d", 1.0, float("inf"))),
    "corrupt_gzip.idx": GZ[:10] + b"\xff" * (len(GZ) - 18) + GZ[-8:],
    "truncated_gzip.idx": GZ[: len(GZ) // 2],
    "gzip_of_truncated.idx": gz(GOOD_U8[:60]),
    "gzip_of_bad_magic.idx": gz(b"\x1f\x8b" + GOOD_U8[2:]),
    "gzip_magic_only.idx": b"\x1f\x8b",
}


def png_chunk(kind, data):
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(w, h, depth, colour, idat):
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + png_chunk(b"IHDR", ihdr) + png_chunk(b"IDAT", idat) +
            png_chunk(b"IEND", b""))


# 8x8 gray gradient (filter byte 0 before each row); its 16-bit twin (4x2); 4x4 RGBA.
GRAY_ROWS = b"".join(b"\x00" + bytes(range(8 * y, 8 * y + 8)) for y in range(8))
GOOD_PNG = png(8, 8, 8, 0, zlib.compress(GRAY_ROWS))
GOOD_PNG16 = png(4, 2, 16, 0, zlib.compress(b"".join(
    b"\x00" + b"".join(struct.pack(">H", 4097 * (4 * y + x)) for x in range(4)) for y in range(2))))
GOOD_RGBA = png(4, 4, 8, 6, zlib.compress(b"".join(
    b"\x00" + b"".join(bytes([60 * x, 60 * y, 100, 255 - 60 * x]) for x in range(4))
    for y in range(4))))
# A 16x16 gray JPEG (stb_image_write, quality 90).
GOOD_JPG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb0084000302020302020303030304030304050805050404050a070706080c0a0c0c0b0a0b0b0d0e12100d0e110e0b0b1016101113141515150c0f1718161418121415140103040405040509050509140d0b0d1414141414141414141414141414141414141414141414141414141414141414141414141414141414141414141414141414ffc00011080010001003012200021101031101ffc401a20000010501010101010100000000000000000102030405060708090a0b100002010303020403050504040000017d01020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a25262728292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9fa0100030101010101010101010000000000000102030405060708090a0b1100020102040403040705040400010277000102031104052131061241510761711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a262728292a35363738393a434445464748494a535455565758595a636465666768696a737475767778797a82838485868788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9eaf2f3f4f5f6f7f8f9faffda000c03010002110311003f00f923f66db6ff008f5e3d2bf55bf66db6ff008f5e3d2bf2ff00f66db6ff008f5e3d2bf557f66db6ff008f5e3d2803ffd9")
# The first DHT's 16 code counts set to 17 each: 272 codes, more than a Huffman table holds.
DHT = GOOD_JPG.index(b"\xff\xc4")
DHT_OVERFLOW = GOOD_JPG[: DHT + 5] + b"\x11" * 16 + GOOD_JPG[DHT + 21:]
BMP_HEADER = (b"BM" + struct.pack("<IHHI", 54 + 12, 0, 0, 54) +
              struct.pack("<IiiHHIIiiII", 40, 100000, 100000, 1, 24, 0, 0, 0, 0, 0, 0))

IMAGE = {
    "good_gray.png": GOOD_PNG,
    "good_gray16.png": GOOD_PNG16,
    "good_rgba.png": GOOD_RGBA,
    "good_gray.jpg": GOOD_JPG,
    "empty.png": b"",
    "text.png": b"this is a text file, not a picture\n",
    "signature_only.png": GOOD_PNG[:8],
    "truncated.png": GOOD_PNG[: len(GOOD_PNG) // 2],
    "garbage_idat.png": png(8, 8, 8, 0, b"\x5a" * 40),
    "bad_crc_garbage_idat.png": GOOD_PNG[:41] + b"\xff" * (len(GOOD_PNG) - 41 - 12) + GOOD_PNG[-12:],
    "zero_size.png": png(0, 0, 8, 0, zlib.compress(b"")),
    "bad_bit_depth.png": png(8, 8, 7, 0, zlib.compress(GRAY_ROWS)),
    "huge_100000x100000.png": png(100000, 100000, 8, 0, zlib.compress(b"\x00" * 64)),
    "huge_9000x9000.png": png(9000, 9000, 8, 2, zlib.compress(b"\x00" * 64)),
    "truncated.jpg": GOOD_JPG[: len(GOOD_JPG) - 40],
    "jpeg_headers_only.jpg": GOOD_JPG[:200],
    "jpeg_dht_overflow.jpg": DHT_OVERFLOW,
    "huge_100000x100000.bmp": BMP_HEADER + b"\x00" * 12,
    "gif_header_only.gif": b"GIF89a\x10\x00\x10\x00",
}

for sub, files in (("idx", IDX), ("image", IMAGE)):
    os.makedirs(os.path.join(HERE, sub), exist_ok=True)
    for name, data in files.items():
        with open(os.path.join(HERE, sub, name), "wb") as f:
            f.write(data)
