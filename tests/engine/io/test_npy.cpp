// .npy reader and writer: round trips, and malformed files rejected with a bad-input error that
// names the file and the problem (CONTRACT.md: exit 2 via the CLI).
#include <doctest/doctest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;

namespace {
// A v1.0 .npy file with the given header dict and raw data bytes.
std::string npy_with_header(std::string dict, const std::string& data, char major = 1) {
  const std::size_t prefix = major == 1 ? 10 : 12;
  std::size_t total = prefix + dict.size() + 1;
  dict.append((64 - total % 64) % 64, ' ');
  dict.push_back('\n');
  std::string out("\x93NUMPY", 6);
  out.push_back(major);
  out.push_back(0);
  const std::size_t len = dict.size();
  out.push_back(char(len & 0xff));
  out.push_back(char((len >> 8) & 0xff));
  if (major != 1) {
    out.push_back(0);
    out.push_back(0);
  }
  return out + dict + data;
}
std::string doubles(std::vector<double> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 8);
}
std::string floats(std::vector<float> v) {
  return std::string(reinterpret_cast<const char*>(v.data()), v.size() * 4);
}
const std::string good_dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), }";

// Parsing must fail with a bad-input error whose message contains `needle` and the file name.
void expect_rejected(const std::string& bytes, const std::string& needle) {
  CAPTURE(needle);
  bool thrown = false;
  try {
    parse_npy<double>(bytes, "bad.npy");
  } catch (const Error& e) {
    thrown = true;
    CHECK(e.kind() == ErrorKind::bad_input);
    const std::string msg = e.what();
    CHECK(msg.find("bad.npy") != std::string::npos);
    CHECK(msg.find(needle) != std::string::npos);
  }
  CHECK(thrown);
}
}  // namespace

TEST_CASE("round trip float32 and float64, header aligned to 64 bytes") {
  const std::vector<double> v = {1.5, -2.25, 3e-300, 4e300, 0.0, -0.0};
  const std::string path = test::tmp_path("rt64.npy");
  write_npy(path, v.data(), 3, 2);
  const std::string bytes = test::slurp(path);
  CHECK(bytes.size() == 128 + 6 * 8);  // 10-byte prefix + header padded to 128 total
  const auto m = read_npy<double>(path);
  CHECK(m.rows == 3);
  CHECK(m.cols == 2);
  CHECK(std::memcmp(m.data.data(), v.data(), v.size() * 8) == 0);

  const std::vector<float> f = {1.0f, 2.5f, -3.0f};
  write_npy(test::tmp_path("rt32.npy"), f.data(), 3, 1);
  const auto mf = read_npy<float>(test::tmp_path("rt32.npy"));
  CHECK(mf.data == f);
  const auto md = read_npy<double>(test::tmp_path("rt32.npy"));  // f32 file read as double
  CHECK(md.data[1] == 2.5);
}

TEST_CASE("numpy-style headers: version 2.0, '=' byte order, spacing, no trailing comma") {
  const auto v2 = parse_npy<double>(npy_with_header(good_dict, doubles({1, 2, 3, 4, 5, 6}), 2), "v2.npy");
  CHECK(v2.data[5] == 6);
  const auto eq = parse_npy<double>(
      npy_with_header("{\"descr\":\"=f4\",\"fortran_order\":False,\"shape\":(3,1)}", floats({1, 2, 3})), "x.npy");
  CHECK(eq.rows == 3);
  CHECK(eq.data[2] == 3);
}

TEST_CASE("malformed files are rejected naming the problem") {
  const std::string data6 = doubles({1, 2, 3, 4, 5, 6});
  expect_rejected("", "bad magic");                                                          // 1
  expect_rejected("hello world, not numpy", "bad magic");                                    // 2
  expect_rejected(std::string("\x93NUMPY\x01\x00\xff\x00{'descr'", 17), "truncated");       // 3
  expect_rejected(npy_with_header(good_dict, data6, 4), "version");                         // 4
  expect_rejected(npy_with_header("{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", data6),
                  "dtype '<i4'");                                                            // 5
  expect_rejected(npy_with_header("{'descr': '>f8', 'fortran_order': False, 'shape': (2, 3), }", data6),
                  "dtype '>f8'");                                                            // 6
  expect_rejected(npy_with_header("{'descr': '<f2', 'fortran_order': False, 'shape': (2, 3), }", data6),
                  "dtype");                                                                  // 7
  expect_rejected(npy_with_header("{'descr': '<f8', 'fortran_order': True, 'shape': (2, 3), }", data6),
                  "Fortran");                                                                // 8
  expect_rejected(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (6,), }", data6),
                  "rank 1");                                                                 // 9
  expect_rejected(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (1, 2, 3), }", data6),
                  "rank 3");                                                                 // 10
  expect_rejected(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (0, 3), }", ""),
                  "empty");                                                                  // 11
  expect_rejected(npy_with_header(good_dict, data6.substr(0, 40)), "too short");            // 12
  expect_rejected(npy_with_header(good_dict, data6 + "xyz"), "trailing");                   // 13
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const double inf = std::numeric_limits<double>::infinity();
  expect_rejected(npy_with_header(good_dict, doubles({1, 2, 3, 4, nan, 6})), "NaN value at row 1, column 1");  // 14
  expect_rejected(npy_with_header(good_dict, doubles({1, 2, -inf, 4, 5, 6})), "Inf value at row 0, column 2");  // 15
  expect_rejected(npy_with_header("{'descr': '<f8', 'shape': (2, 3), }", data6), "missing");  // 16
  expect_rejected(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, 3), 'x': 1}", data6),
                  "unexpected key 'x'");                                                     // 17
  expect_rejected(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (2, three), }", data6),
                  "bad shape");                                                              // 18
  expect_rejected(npy_with_header("{'descr': '<f8', 'fortran_order': Maybe, 'shape': (2, 3), }", data6),
                  "fortran_order");                                                          // 19
  expect_rejected(npy_with_header("['descr', '<f8']", data6), "expected '{'");              // 20
  expect_rejected(npy_with_header("{'descr': '<f8, 'fortran_order': False, 'shape': (2, 3), }", data6),
                  "malformed");                                                              // 21
  expect_rejected(npy_with_header("{'descr': '<f8', 'fortran_order': False, 'shape': (99999999999, 99999999999), }", data6),
                  "too large");                                                              // 22
  const std::vector<float> fnan = {1.0f, std::numeric_limits<float>::quiet_NaN()};
  CHECK_THROWS_AS(parse_npy<float>(npy_with_header("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1), }",
                                                   floats(fnan)), "f.npy"), Error);        // 23
}

TEST_CASE("missing file and unwritable path are bad-input errors naming the path") {
  try {
    read_npy<double>("/nonexistent/dir/x.npy");
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::bad_input);
    CHECK(std::string(e.what()).find("/nonexistent/dir/x.npy") != std::string::npos);
  }
  const double v = 1;
  try {
    write_npy("/nonexistent/dir/y.npy", &v, 1, 1);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::bad_input);
    CHECK(std::string(e.what()).find("/nonexistent/dir/y.npy") != std::string::npos);
  }
}
