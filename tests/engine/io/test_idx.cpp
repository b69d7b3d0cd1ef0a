// IDX reader: the Fashion-MNIST files of Debian's dataset-fashion-mnist (gzip and a plain copy
// made by gzip(1)), synthetic files of every item type written big-endian by hand, and malformed
// files that must be bad input naming the file.
#include <doctest/doctest.h>

#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <limits>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"
#include "nwgf/engine/io/idx.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;

namespace {

const std::string fmnist = "/usr/share/datasets/fashion-mnist/";

void write_bytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

// gzip(1) of `bytes` (independent of the zlib calls in the reader).
std::string gzip_of(const std::string& bytes, const std::string& name) {
  const std::string plain = test::tmp_path(name), gz = plain + ".gz";
  write_bytes(plain, bytes);
  REQUIRE(std::system(("gzip -c -n '" + plain + "' > '" + gz + "'").c_str()) == 0);
  std::string out = test::slurp(gz);
  std::filesystem::remove(plain);
  std::filesystem::remove(gz);
  return out;
}

// The decompressed Fashion-MNIST file, made once by gzip -dc.
std::string plain_copy(const std::string& file) {
  const std::string out = test::tmp_path("idx_plain_" + file);
  if (!std::filesystem::exists(out)) {
    const std::string cmd = "gzip -dc '" + fmnist + file + ".gz' > '" + out + ".tmp' && mv '" +
                            out + ".tmp' '" + out + "'";
    REQUIRE(std::system(cmd.c_str()) == 0);
  }
  return out;
}

void put_be(std::string& s, std::uint64_t v, int bytes) {
  for (int b = bytes - 1; b >= 0; --b) s.push_back(char((v >> (8 * b)) & 0xff));
}

std::string header(std::uint8_t type, const std::vector<std::uint32_t>& dims) {
  std::string s{'\0', '\0', char(type), char(dims.size())};
  for (auto d : dims) put_be(s, d, 4);
  return s;
}

bool same(const HostMatrix<double>& a, const HostMatrix<double>& b) {
  if (a.rows != b.rows || a.cols != b.cols || a.data.size() != b.data.size()) return false;
  for (std::size_t i = 0; i < a.data.size(); ++i) {
    if (std::bit_cast<std::uint64_t>(a.data[i]) != std::bit_cast<std::uint64_t>(b.data[i])) {
      return false;
    }
  }
  return true;
}

// Both readers (file and memory) refuse `bytes` as bad input naming the file and saying `what`.
void expect_bad(const std::string& case_name, const std::string& bytes, const std::string& what,
                index_t count = 0) {
  INFO("case " << case_name);
  const std::string path = test::tmp_path("idx_bad_" + case_name + ".idx");
  write_bytes(path, bytes);
  for (int from_file = 0; from_file < 2; ++from_file) {
    const std::string name = from_file ? path : "mem_" + case_name + ".idx";
    try {
      if (from_file) {
        (void)read_idx(path, count);
      } else {
        (void)parse_idx(bytes, name, count);
      }
      FAIL("accepted (from_file = " << from_file << ")");
    } catch (const Error& e) {
      INFO(std::string(e.what()));
      CHECK(e.kind() == ErrorKind::bad_input);
      CHECK(std::string(e.what()).rfind(name + ": ", 0) == 0);
      CHECK(std::string(e.what()).find(what) != std::string::npos);
    }
  }
  std::filesystem::remove(path);
}

}  // namespace

TEST_CASE("idx: Fashion-MNIST headers") {
  const IdxHeader ti = read_idx_header(fmnist + "t10k-images-idx3-ubyte.gz");
  CHECK(ti.type == 0x08);
  CHECK(ti.dims == std::vector<index_t>{10000, 28, 28});
  CHECK(ti.items() == 10000);
  CHECK(ti.item_size() == 784);
  const IdxHeader tl = read_idx_header(fmnist + "t10k-labels-idx1-ubyte.gz");
  CHECK(tl.dims == std::vector<index_t>{10000});
  CHECK(tl.item_size() == 1);
  CHECK(read_idx_header(fmnist + "train-images-idx3-ubyte.gz").dims ==
        std::vector<index_t>{60000, 28, 28});
  CHECK(read_idx_header(fmnist + "train-labels-idx1-ubyte.gz").dims == std::vector<index_t>{60000});
  CHECK(read_idx_header(plain_copy("t10k-images-idx3-ubyte")).dims == ti.dims);
}

TEST_CASE("idx: t10k images, gzip and plain, bytes scaled by exactly 1/255") {
  const std::string gz = fmnist + "t10k-images-idx3-ubyte.gz";
  const auto t0 = std::chrono::steady_clock::now();
  const auto all = read_idx(gz);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("read_idx of 10000 gzip images (7.8 M bytes): " << secs << " s");
  CHECK(secs < 5.0);
  REQUIRE(all.rows == 10000);
  REQUIRE(all.cols == 784);
  REQUIRE(all.data.size() == 7840000);

  // The plain file's bytes after its 16-byte header, read here without the reader.
  const std::string plain = plain_copy("t10k-images-idx3-ubyte");
  const std::string raw = test::slurp(plain);
  REQUIRE(raw.size() == 16 + 7840000);
  bool exact = true, in_range = true;
  double lo = 1, hi = 0;
  for (std::size_t i = 0; i < all.data.size(); ++i) {
    const double v = all.data[i];
    exact = exact && v == std::uint8_t(raw[16 + i]) / 255.0;
    in_range = in_range && v >= 0.0 && v <= 1.0;
    lo = std::min(lo, v);
    hi = std::max(hi, v);
  }
  CHECK(exact);
  CHECK(in_range);
  CHECK(lo == 0.0);
  CHECK(hi == 1.0);

  CHECK(same(read_idx(plain), all));
  CHECK(same(parse_idx(read_file(gz), "t10k.gz"), all));
  CHECK(same(parse_idx(raw, "t10k"), all));
}

TEST_CASE("idx: the first n items are the prefix of all") {
  const std::string gz = fmnist + "t10k-images-idx3-ubyte.gz";
  const auto all = read_idx(gz);
  const std::string bytes = read_file(gz);
  for (index_t n : {1, 7, 100, 9999, 10000}) {
    INFO("n = " << n);
    const auto first = read_idx(gz, n);
    REQUIRE(first.rows == n);
    REQUIRE(first.cols == 784);
    CHECK(std::equal(first.data.begin(), first.data.end(), all.data.begin()));
    CHECK(same(parse_idx(bytes, "t10k.gz", n), first));
  }
  // The first items of the 26 MB training set against gzip -dc | head, without inflating it all.
  const std::string head = test::tmp_path("idx_train_head");
  const std::string cmd = "gzip -dc '" + fmnist + "train-images-idx3-ubyte.gz' | head -c " +
                          std::to_string(16 + 20 * 784) + " > '" + head + "'";
  REQUIRE(std::system(cmd.c_str()) == 0);
  const std::string raw = test::slurp(head);
  REQUIRE(raw.size() == 16 + 20 * 784);
  const auto t0 = std::chrono::steady_clock::now();
  const auto train = read_idx(fmnist + "train-images-idx3-ubyte.gz", 20);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  MESSAGE("first 20 of 60000 training images: " << secs << " s");
  REQUIRE(train.data.size() == 20 * 784);
  bool exact = true;
  for (std::size_t i = 0; i < train.data.size(); ++i) {
    exact = exact && train.data[i] == std::uint8_t(raw[16 + i]) / 255.0;
  }
  CHECK(exact);
  // The header of a 20-item prefix still claims 60000: the body is truncated past item 20.
  CHECK(read_idx(head, 20).data == train.data);
  expect_bad("train_head", raw, "truncated IDX data", 21);
}

TEST_CASE("idx: labels are 0..9, 1000 (t10k) and 6000 (train) of each") {
  for (const auto& [file, each] :
       {std::pair<std::string, int>{"t10k-labels-idx1-ubyte.gz", 1000},
        std::pair<std::string, int>{"train-labels-idx1-ubyte.gz", 6000}}) {
    INFO(file);
    const auto labels = read_idx(fmnist + file);
    REQUIRE(labels.cols == 1);
    std::vector<int> count(10, 0);
    bool valid = true;
    for (double v : labels.data) {
      const double k = v * 255.0;  // u8 scaled to [0, 1]
      const long label = std::lround(k);
      valid = valid && std::abs(k - double(label)) < 1e-9 && label >= 0 && label <= 9;
      if (label >= 0 && label <= 9) ++count[std::size_t(label)];
    }
    CHECK(valid);
    for (int c = 0; c < 10; ++c) CHECK(count[std::size_t(c)] == each);
  }
}

TEST_CASE("idx: synthetic files of every item type round-trip, plain and gzip") {
  struct Typed {
    std::uint8_t type;
    int bytes;
    std::vector<double> values;  // representable exactly in the type
  };
  const double f32_min = std::numeric_limits<float>::denorm_min();
  const std::vector<Typed> types = {
      {0x08, 1, {0, 1, 127, 128, 254, 255}},
      {0x09, 1, {-128, -1, 0, 1, 100, 127}},
      {0x0B, 2, {-32768, -300, -1, 0, 258, 32767}},
      {0x0C, 4, {-2147483648.0, -65536, -1, 0, 16777217, 2147483647}},
      {0x0D, 4, {-3.5, 0.15625, f32_min, -0.0, 1e30, double(std::numeric_limits<float>::max())}},
      {0x0E, 8, {-1e300, 0.1, 5e-324, -0.0, 1.0 / 3.0, std::numeric_limits<double>::max()}},
  };
  for (const Typed& t : types) {
    INFO("type " << int(t.type));
    for (const auto& dims : {std::vector<std::uint32_t>{6}, std::vector<std::uint32_t>{3, 2},
                             std::vector<std::uint32_t>{2, 3, 1},
                             std::vector<std::uint32_t>{1, 1, 1, 2, 1, 3, 1, 1}}) {
      INFO("rank " << dims.size());
      std::string file = header(t.type, dims);
      for (double v : t.values) {
        std::uint64_t bits = 0;
        switch (t.type) {
          case 0x08:
          case 0x09:
          case 0x0B:
          case 0x0C:
            bits = std::uint64_t(std::int64_t(v));
            break;
          case 0x0D:
            bits = std::bit_cast<std::uint32_t>(float(v));
            break;
          default:
            bits = std::bit_cast<std::uint64_t>(v);
        }
        put_be(file, bits, t.bytes);
      }
      const std::string path = test::tmp_path("idx_synthetic.idx");
      write_bytes(path, file);
      const IdxHeader h = read_idx_header(path);
      CHECK(h.type == t.type);
      CHECK(h.dims.size() == dims.size());
      CHECK(h.items() == dims[0]);
      const auto m = read_idx(path);
      CHECK(m.rows == dims[0]);
      CHECK(m.cols == 6 / index_t(dims[0]));
      REQUIRE(m.data.size() == 6);
      for (std::size_t i = 0; i < 6; ++i) {
        const double want = t.type == 0x08   ? t.values[i] / 255.0
                            : t.type == 0x0D ? double(float(t.values[i]))
                                             : t.values[i];
        CHECK(std::bit_cast<std::uint64_t>(m.data[i]) == std::bit_cast<std::uint64_t>(want));
      }
      const std::string gz = gzip_of(file, "idx_synthetic_gz.idx");
      write_bytes(path + ".gz", gz);
      CHECK(same(read_idx(path + ".gz"), m));
      CHECK(same(parse_idx(gz, "s.gz"), m));
      CHECK(same(parse_idx(file, "s"), m));
      // Trailing bytes (after the data, after the gzip stream) are ignored; gzip members
      // concatenate.
      CHECK(same(parse_idx(file + "trailing", "s"), m));
      CHECK(same(parse_idx(gz + "trailing garbage", "s.gz"), m));
      const std::string halves =
          gzip_of(file.substr(0, 7), "idx_half1") + gzip_of(file.substr(7), "idx_half2");
      CHECK(same(parse_idx(halves, "s.gz"), m));
      write_bytes(path + ".gz", halves);
      CHECK(same(read_idx(path + ".gz"), m));
      std::filesystem::remove(path);
      std::filesystem::remove(path + ".gz");
    }
  }
}

TEST_CASE("idx: malformed files are bad input naming the file") {
  const std::string u8_2x3 = header(0x08, {2, 3}) + std::string("\1\2\3\4\5\6", 6);
  expect_bad("empty", "", "truncated IDX header");
  expect_bad("three_bytes", std::string("\0\0\x08", 3), "truncated IDX header");
  expect_bad("bad_magic", "\x01\x02" + u8_2x3.substr(2), "not an IDX file");
  expect_bad("text", "hello, world\n", "not an IDX file");
  expect_bad("unknown_type", header(0x0A, {2, 3}) + "123456", "unknown IDX item type 0x0a");
  expect_bad("rank_0", header(0x08, {}) + "123456", "IDX rank 0");
  expect_bad("rank_9", header(0x08, {1, 1, 1, 1, 1, 1, 1, 1, 1}) + "x", "IDX rank 9");
  expect_bad("truncated_dims", header(0x08, {2, 3, 4}).substr(0, 10), "truncated IDX header");
  expect_bad("zero_items", header(0x08, {0, 3}), "IDX dimension 0 has size 0");
  expect_bad("zero_dim", header(0x08, {2, 0}) + "12", "IDX dimension 1 has size 0");
  expect_bad("huge_dims", header(0x08, {65536, 65536}) + "123", "too large");
  expect_bad("overflow_dims", header(0x0E, std::vector<std::uint32_t>(8, 0xffffffffu)),
             "too large");
  // 2^31 values claimed with 3 bytes of data: refused without allocating 16 GB.
  expect_bad("claims_2g", header(0x08, {32768, 65536}) + "123", "truncated IDX data");
  expect_bad("truncated_body", u8_2x3.substr(0, u8_2x3.size() - 1), "truncated IDX data");
  expect_bad("truncated_f64", header(0x0E, {1}) + "1234567", "truncated IDX data");
  expect_bad("count_too_large", u8_2x3, "asked for 3 items, the file has 2", 3);
  expect_bad("count_negative", u8_2x3, "negative", -1);
  std::string nan32 = header(0x0D, {2, 2});
  for (float v : {1.0f, 2.0f, 3.0f, std::numeric_limits<float>::quiet_NaN()}) {
    put_be(nan32, std::bit_cast<std::uint32_t>(v), 4);
  }
  expect_bad("nan_f32", nan32, "non-finite value (item 1, value 1)");
  std::string inf64 = header(0x0E, {1});
  put_be(inf64, std::bit_cast<std::uint64_t>(-std::numeric_limits<double>::infinity()), 8);
  expect_bad("inf_f64", inf64, "non-finite value (item 0, value 0)");

  const std::string gz = gzip_of(u8_2x3, "idx_bad_src");
  expect_bad("gzip_magic_only", "\x1f\x8b", "gzip");
  expect_bad("gzip_truncated_stream", gz.substr(0, gz.size() / 2), "truncated gzip stream");
  std::string corrupt = gz;
  for (std::size_t i = 10; i < corrupt.size() - 8; ++i) corrupt[i] = char(0xff);
  expect_bad("gzip_corrupt", corrupt, "corrupt gzip stream");
  expect_bad("gzip_of_truncated", gzip_of(u8_2x3.substr(0, 12), "idx_bad_trunc"), "truncated");
  expect_bad("gzip_of_bad_magic", gzip_of("\x08\x08" + u8_2x3.substr(2), "idx_bad_magic"),
             "not an IDX file");
}

TEST_CASE("idx: missing files and directories are bad input naming them") {
  const std::string missing = test::tmp_path("idx_does_not_exist.idx");
  std::filesystem::remove(missing);
  const std::string dir = test::tmp_path("idx_a_directory.idx");
  std::filesystem::create_directories(dir);
  for (const std::string& path : {missing, dir}) {
    for (int header_only = 0; header_only < 2; ++header_only) {
      try {
        if (header_only) {
          (void)read_idx_header(path);
        } else {
          (void)read_idx(path);
        }
        FAIL("accepted " << path);
      } catch (const Error& e) {
        CHECK(e.kind() == ErrorKind::bad_input);
        CHECK(std::string(e.what()).find(path) != std::string::npos);
      }
    }
  }
}

TEST_CASE("read_idx_rows: the rows read_idx gives, plain and gzip; errors within the rows read") {
  // 20 items of 2 x 3 i16 values (2 bytes each: the skip counts bytes), plain and gzip.
  std::string file = header(0x0B, {20, 2, 3});
  for (int k = 0; k < 20 * 6; ++k) put_be(file, std::uint64_t(std::int64_t(k * 97 % 601 - 300)), 2);
  const std::string path = test::tmp_path("idx_rows.idx");
  write_bytes(path, file);
  write_bytes(path + ".gz", gzip_of(file, "idx_rows_gz.idx"));
  for (const std::string& p : {path, path + ".gz"}) {
    CAPTURE(p);
    for (const index_t count : {index_t(0), index_t(20), index_t(15)}) {
      const HostMatrix<double> all = read_idx(p, count);
      const index_t n = all.rows;
      for (const auto& [a, e] : std::vector<std::pair<index_t, index_t>>{
               {0, n}, {3, 11}, {n - 1, n}, {5, 5}, {0, 1}}) {
        CAPTURE(a);
        CAPTURE(e);
        HostMatrix<double> want;
        want.rows = e - a;
        want.cols = 6;
        want.data.assign(all.data.begin() + a * 6, all.data.begin() + e * 6);
        CHECK(same(read_idx_rows(p, count, a, e), want));
      }
    }
    CHECK_THROWS_AS(read_idx_rows(p, 21, 0, 1), Error);   // more items than the file holds
    CHECK_THROWS_AS(read_idx_rows(p, 10, 5, 11), Error);  // rows past the count
  }
  // Truncated after 12 items: rows before the cut read, rows across it are bad input.
  write_bytes(path, file.substr(0, 4 + 12 + 12 * 12));
  CHECK(read_idx_rows(path, 20, 0, 12).rows == 12);
  CHECK_THROWS_WITH_AS(read_idx_rows(path, 20, 10, 14), doctest::Contains("truncated IDX data"),
                       Error);
  CHECK_THROWS_WITH_AS(read_idx_rows(path, 20, 15, 20), doctest::Contains("truncated IDX data"),
                       Error);
  // A non-finite value is named by its global item number, by the rank that reads it only.
  std::string f32 = header(0x0D, {20, 2});
  for (int k = 0; k < 40; ++k) {
    const float v = k == 25 ? std::numeric_limits<float>::quiet_NaN() : float(k) / 8;
    put_be(f32, std::bit_cast<std::uint32_t>(v), 4);
  }
  write_bytes(path, f32);
  CHECK(read_idx_rows(path, 20, 0, 12).rows == 12);
  CHECK(read_idx_rows(path, 20, 13, 20).rows == 7);
  CHECK_THROWS_WITH_AS(read_idx_rows(path, 20, 10, 13), doctest::Contains("item 12, value 1"),
                       Error);
  std::filesystem::remove(path);
  std::filesystem::remove(path + ".gz");
}
