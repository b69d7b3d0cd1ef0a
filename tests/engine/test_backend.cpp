// Backends, contexts, buffers and views; atomic file writes.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "nwgf/engine/backend.hpp"
#include "nwgf/engine/buffer.hpp"
#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"
#include "nwgf/engine/types.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;

TEST_CASE("asking for CUDA where none is usable is a bad-input error with the driver's reason") {
  const CudaStatus s = cuda_status();
  if (s.usable) {
    MESSAGE("a CUDA device is usable here; the unusable-device path is not exercised");
    CHECK(resolve_backend(BackendChoice::automatic) == Device::cuda);
    return;
  }
  CHECK(!s.reason.empty());
  CHECK(resolve_backend(BackendChoice::automatic) == Device::cpu);
  try {
    Context ctx(Device::cuda, 1);
    FAIL("no error");
  } catch (const Error& e) {
    CHECK(e.kind() == ErrorKind::bad_input);
    CHECK(std::string(e.what()).find("--backend cuda") != std::string::npos);
    CHECK(std::string(e.what()).find(s.reason) != std::string::npos);
  }
  CHECK_THROWS_AS(Context(BackendChoice::cuda, 1), Error);
}

TEST_CASE("backend and dtype names") {
  CHECK(parse_backend("auto") == BackendChoice::automatic);
  CHECK(parse_backend("cpu") == BackendChoice::cpu);
  CHECK(parse_backend("cuda") == BackendChoice::cuda);
  CHECK_THROWS_WITH_AS(parse_backend("gpu"), doctest::Contains("--backend"), Error);
  CHECK(parse_dtype("f32") == DType::f32);
  CHECK(parse_dtype("float64") == DType::f64);
  CHECK_THROWS_WITH_AS(parse_dtype("f16"), doctest::Contains("'f16'"), Error);
}

TEST_CASE("buffers: move semantics, copies, zero fill, views") {
  Context ctx(Device::cpu, 2);
  CHECK(ctx.threads() == 2);
  Buffer<double> a = upload(ctx, std::vector<double>{1, 2, 3, 4, 5, 6});
  CHECK(a.size() == 6);
  CHECK(reinterpret_cast<std::uintptr_t>(a.data()) % 64 == 0);
  Buffer<double> b(ctx, 6);
  copy(ctx, b, a);
  Buffer<double> c = std::move(b);
  CHECK(b.empty());
  CHECK(download(ctx, c) == std::vector<double>{1, 2, 3, 4, 5, 6});
  PointsView<double> pv(c.data(), 3, 2);
  CHECK(pv(2, 1) == 6);
  MatrixView<double, ColMajor> cv(c.data(), 2, 3);
  CHECK(cv(1, 2) == 6);
  CHECK(cv(0, 1) == 3);
  ConstPointsView<double> cpv = pv;
  CHECK(cpv(1, 0) == 3);
  fill_zero(ctx, c);
  CHECK(download(ctx, c) == std::vector<double>(6, 0.0));
  Buffer<double> small(ctx, 2);
  CHECK_THROWS_AS(copy(ctx, small, a), Error);
  Points<float> pts(ctx, 4, 3);
  CHECK(pts.view().rows == 4);
  CHECK(pts.view().ld == 3);
}

TEST_CASE("atomic writes leave either the old or the new file, never a temporary") {
  const std::string path = test::tmp_path("atomic.txt");
  write_file_atomic(path, std::string_view("first"));
  write_file_atomic(path, std::string_view("second version"));
  CHECK(read_file(path) == "second version");
  for (const auto& entry : std::filesystem::directory_iterator(NWGF_TEST_TMP)) {
    CHECK(entry.path().filename().string().find("atomic.txt.tmp") == std::string::npos);
  }
  CHECK_THROWS_AS(read_file(test::tmp_path("does-not-exist")), Error);
}
