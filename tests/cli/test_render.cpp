// Pictures of point sets and runs: tiles hold the exact grey of each value, density and scatter
// put ink only where the points are, trajectory grids have the Fig. 5 layout, and `nwgf render`
// writes PNGs and GIFs (checked with stb_image and giflib) or exits 2 naming the culprit.
#include <doctest/doctest.h>
#include <gif_lib.h>
#include <stb/stb_image.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/engine/viz/plot.hpp"
#include "nwgf/engine/viz/render.hpp"
#include "nwgf/schemes/run/viz/run_plots.hpp"
#include "tests/helpers.hpp"

using namespace nwgf;
namespace fs = std::filesystem;

namespace {

bool is_white(Rgb c) { return c.r == 255 && c.g == 255 && c.b == 255; }

// Non-white pixels in [x0, x1) x [y0, y1).
int ink_in(const Image& img, int x0, int y0, int x1, int y1) {
  int count = 0;
  for (int y = y0; y < y1; ++y) {
    for (int x = x0; x < x1; ++x) count += !is_white(img.get(x, y));
  }
  return count;
}

// n points uniform in [lo, hi]^2 (a deterministic lattice-like sequence).
std::vector<double> square_points(int n, double lo, double hi) {
  std::vector<double> x;
  for (int i = 0; i < n; ++i) {
    x.push_back(lo + (hi - lo) * std::fmod(0.6180339887 * i, 1.0));
    x.push_back(lo + (hi - lo) * std::fmod(0.7548776662 * i + 0.3, 1.0));
  }
  return x;
}

int gif_frames(const std::string& path, int* width = nullptr) {
  int err = 0;
  GifFileType* gif = DGifOpenFileName(path.c_str(), &err);
  if (!gif) return -1;
  const int ok = DGifSlurp(gif);
  const int frames = ok == GIF_OK ? gif->ImageCount : -1;
  if (width) *width = gif->SWidth;
  DGifCloseFile(gif, &err);
  return frames;
}

// A fake run directory: snapshots/step_NNNNNN.npy for the given steps, and metrics.csv.
std::string fake_run(const std::string& name, const std::vector<std::vector<double>>& snaps,
                     index_t n, index_t d, const std::vector<int>& steps) {
  const std::string dir = test::tmp_path(name);
  fs::remove_all(dir);
  fs::create_directories(dir + "/snapshots");
  std::string csv = "step,time,tau\n";
  for (std::size_t s = 0; s < snaps.size(); ++s) {
    char file[64];
    std::snprintf(file, sizeof file, "/snapshots/step_%06d.npy", steps[s]);
    write_npy<double>(dir + file, snaps[s].data(), n, d);
    csv += std::to_string(steps[s]) + "," + std::to_string(0.5 * steps[s]) + ",0.5\n";
  }
  std::FILE* f = std::fopen((dir + "/metrics.csv").c_str(), "w");
  std::fputs(csv.c_str(), f);
  std::fclose(f);
  return dir;
}

bool png_size(const std::string& path, int* w, int* h) {
  const std::string bytes = test::slurp(path);
  if (bytes.size() < 8 || bytes.compare(0, 8, std::string("\x89PNG\r\n\x1a\n", 8)) != 0)
    return false;
  int comp = 0;
  return stbi_info_from_memory(reinterpret_cast<const stbi_uc*>(bytes.data()), int(bytes.size()), w,
                               h, &comp) == 1;
}

}  // namespace

TEST_CASE("tiles: each value is one scale x scale block of grey 255 (1 - v), clipped to [0, 1]") {
  // 3 tiles of 2x3 pixels, 2 columns: grid of 2 rows.
  TileOptions t;
  t.tile_height = 2;
  t.tile_width = 3;
  t.columns = 2;
  t.scale = 3;
  t.gap = 1;
  std::vector<double> x(3 * 6);
  for (int k = 0; k < 3; ++k) {
    for (int p = 0; p < 6; ++p) x[std::size_t(k * 6 + p)] = 0.1 * p + 0.05 * k;
  }
  x[5] = 1.7;   // clipped to 1: black
  x[6] = -0.4;  // clipped to 0: white
  const Image img = rasterize(render_tiles(x.data(), 3, 6, t));
  // width = gap + 2 (3*3 + gap), height = gap + 2 (2*3 + gap)
  CHECK(img.width() == 1 + 2 * 10);
  CHECK(img.height() == 1 + 2 * 7);
  for (int k = 0; k < 3; ++k) {
    const int x0 = 1 + (k % 2) * 10, y0 = 1 + (k / 2) * 7;
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) {
        const double v = std::clamp(x[std::size_t(k * 6 + i * 3 + j)], 0.0, 1.0);
        const int grey = int(std::lround(255 * (1 - v)));
        for (int a = 0; a < 3; ++a) {
          for (int b = 0; b < 3; ++b) {
            const Rgb c = img.get(x0 + 3 * j + a, y0 + 3 * i + b);
            CHECK(c.r == grey);
            CHECK(c.g == grey);
            CHECK(c.b == grey);
          }
        }
      }
    }
  }
  CHECK(img.get(1 + 2 * 3, 1 + 3).r == 0);  // x[5] = 1.7 (tile 0, row 1, column 2): full ink
  CHECK(img.get(1 + 10, 1).r == 255);       // x[6] = -0.4 (tile 1, row 0, column 0): no ink
  // The fourth grid cell (no sample) and the gaps stay background.
  CHECK(img.get(12, 10).r == 200);
  CHECK(img.get(0, 0).r == 200);
  CHECK(img.get(10, 3).r == 200);

  CHECK_THROWS_AS(render_tiles(x.data(), 3, 5, t), Error);  // d != 2 * 3
}

TEST_CASE("tiles: a labelled grid puts tiles, grid lines and labels where tile_layout says") {
  // 6 tiles of 2x3 pixels, 3 columns, scale 4: 2 grid rows, labelled like the paper's Fig. 5.
  TileOptions t;
  t.tile_height = 2, t.tile_width = 3, t.columns = 3, t.scale = 4, t.gap = 2;
  std::vector<double> x(6 * 6);
  for (std::size_t i = 0; i < x.size(); ++i) x[i] = double(i % 7) / 7;
  const TileLayout plain = tile_layout(6, t);
  CHECK(plain.grid_left == 0);
  CHECK(plain.grid_top == 0);
  t.row_labels = {"#0", "#17"};
  t.column_labels = {"t = 0", "t = 5", "t = 10"};
  const TileLayout L = tile_layout(6, t);
  REQUIRE(L.grid_left > 8);
  REQUIRE(L.grid_top > 6);
  CHECK(L.width == L.grid_left + plain.width);
  CHECK(L.height == L.grid_top + plain.height);
  const Image img = rasterize(render_tiles(x.data(), 6, 6, t));
  CHECK(img.width() == L.width);
  CHECK(img.height() == L.height);
  const int tw = 3 * 4, th = 2 * 4;
  for (int k = 0; k < 6; ++k) {
    CAPTURE(k);
    // Each image pixel is a 4x4 block of its grey, where the layout puts the tile.
    for (int i = 0; i < 2; ++i) {
      for (int j = 0; j < 3; ++j) {
        const int grey = int(std::lround(255 * (1 - x[std::size_t(k * 6 + i * 3 + j)])));
        CHECK(img.get(L.tile_x(k) + 4 * j + 1, L.tile_y(k) + 4 * i + 2).r == grey);
      }
    }
    // The grid: grey lines left of and above every tile.
    CHECK(img.get(L.tile_x(k) - 1, L.tile_y(k) + 3).r == 200);
    CHECK(img.get(L.tile_x(k) + 5, L.tile_y(k) - 1).r == 200);
  }
  // A row's label: ink left of the grid beside that row only; a column's: ink above it.
  for (int r = 0; r < 2; ++r) {
    CHECK(ink_in(img, 0, L.tile_y(3 * r), L.grid_left, L.tile_y(3 * r) + th) > 5);
  }
  for (int c = 0; c < 3; ++c) {
    CHECK(ink_in(img, L.tile_x(c), 0, L.tile_x(c) + tw, L.grid_top) > 5);
  }
  CHECK(ink_in(img, 0, 0, L.grid_left, L.grid_top) == 0);  // the corner
  // Labels stay inside the canvas.
  CHECK(ink_in(img, 0, 0, img.width(), 1) == 0);
  CHECK(ink_in(img, 0, 0, 1, img.height()) == 0);
  // More labels than rows or columns: bad input.
  t.row_labels = {"a", "b", "c"};
  CHECK_THROWS_AS(tile_layout(6, t), Error);
}

TEST_CASE("density and scatter: all points in one quadrant put ink only there") {
  const std::vector<double> x = square_points(5000, 0.2, 0.9);  // upper right quadrant
  ScatterOptions o;
  o.size = 256;
  o.extent = 1;
  for (bool density : {true, false}) {
    CAPTURE(density);
    const Image img = rasterize(density ? render_density(x.data(), 5000, 2, o)
                                        : render_scatter(x.data(), 5000, 2, o));
    CHECK(img.width() == 256);
    // Inside the data box (its frame excluded): ink in the upper right quadrant only.
    const ScatterBox b = scatter_box(o, 1, density);
    const int l = int(b.left) + 1, t = int(b.top) + 1, m = int(b.left + b.side / 2),
              c = int(b.top + b.side / 2), r = int(b.left + b.side) - 1,
              btm = int(b.top + b.side) - 1;
    CHECK(ink_in(img, m + 2, t, r, c - 2) > 1000);  // upper right
    CHECK(ink_in(img, l, t, m - 1, btm) == 0);      // left half
    CHECK(ink_in(img, m, c + 1, r, btm) == 0);      // lower right
  }
}

TEST_CASE("render_points: automatic picks tiles for 784-D, density for large n, else scatter") {
  RenderOptions o;
  CHECK(resolve_style(o, 10, 784) == RenderStyle::tiles);
  CHECK(resolve_style(o, 100, 2) == RenderStyle::scatter);
  CHECK(resolve_style(o, 20001, 2) == RenderStyle::density);
  o.style = RenderStyle::scatter;
  CHECK(resolve_style(o, 10, 784) == RenderStyle::scatter);
  CHECK(parse_render_style("density") == RenderStyle::density);
  CHECK_THROWS_AS(parse_render_style("heat", "--style"), Error);

  // 250 MNIST-shaped rows, max_tiles 30: 3 rows of 10 tiles of 56 px + gaps.
  std::vector<double> x(250 * 784, 0.5);
  RenderOptions t;
  t.max_tiles = 30;
  const Image img = rasterize(render_points(x.data(), 250, 784, t));
  CHECK(img.width() == 2 + 10 * (56 + 2));
  CHECK(img.height() == 2 + 3 * (56 + 2));
}

TEST_CASE("trajectories: tile grid rows are samples, columns snapshots; 2-D paths are drawn") {
  // 5 snapshots of 4 samples of 2x2 images; sample i at snapshot s has value (s + i) / 10.
  std::vector<HostMatrix<double>> snaps(5);
  for (int s = 0; s < 5; ++s) {
    snaps[std::size_t(s)].rows = 4;
    snaps[std::size_t(s)].cols = 4;
    for (int i = 0; i < 4; ++i) {
      for (int p = 0; p < 4; ++p) snaps[std::size_t(s)].data.push_back((s + i) / 10.0);
    }
  }
  RenderOptions o;
  o.tiles.tile_height = 2, o.tiles.tile_width = 2, o.tiles.scale = 1, o.tiles.gap = 1;
  const Image img = rasterize(render_trajectories(snaps, {3, 1}, o));
  CHECK(img.width() == 1 + 5 * 3);   // 5 snapshots across
  CHECK(img.height() == 1 + 2 * 3);  // 2 samples down
  for (int k = 0; k < 2; ++k) {
    const int sample = k == 0 ? 3 : 1;
    for (int s = 0; s < 5; ++s) {
      const int grey = int(std::lround(255 * (1 - (s + sample) / 10.0)));
      CHECK(img.get(1 + 3 * s, 1 + 3 * k).r == grey);
    }
  }
  // At most `columns` snapshots are shown, first and last included.
  o.tiles.columns = 3;
  const Image few = rasterize(render_trajectories(snaps, {0}, o));
  CHECK(few.width() == 1 + 3 * 3);
  CHECK(few.get(1, 1).r == 255);                                    // snapshot 0
  CHECK(few.get(1 + 6, 1).r == int(std::lround(255 * (1 - 0.4))));  // snapshot 4
  CHECK_THROWS_AS(render_trajectories(snaps, {4}, o), Error);       // row out of range
  CHECK_THROWS_AS(render_trajectories({}, {0}, o), Error);
  // Labelled: columns by the shown snapshots' labels, rows by sample; the tiles move right and
  // down by the label margins and keep their values.
  const std::vector<std::string> labels = {"t = 0", "t = 1", "t = 2", "t = 3", "t = 4"};
  const Image lab = rasterize(render_trajectories(snaps, {3, 1}, o, labels));
  TileOptions lt = o.tiles;
  lt.row_labels = {"#3", "#1"};
  lt.column_labels = {"t = 0", "t = 2", "t = 4"};
  const TileLayout L = tile_layout(6, lt);
  CHECK(lab.width() == L.width);
  CHECK(lab.height() == L.height);
  CHECK(L.grid_left > 0);
  for (int k = 0; k < 2; ++k) {
    for (int s = 0; s < 3; ++s) {
      const int grey = int(std::lround(255 * (1 - (2 * s + (k == 0 ? 3 : 1)) / 10.0)));
      CHECK(lab.get(L.tile_x(3 * k + s), L.tile_y(3 * k + s)).r == grey);
    }
  }
  CHECK_THROWS_AS(render_trajectories(snaps, {0}, o, {"t = 0"}), Error);  // not one per snapshot

  // Time rows: the transpose, one row per shown snapshot (from the start down), one column per
  // sample; rows labelled by time, columns by sample.
  RenderOptions tr = o;
  tr.trajectory_rows = TrajectoryRows::time;
  const Image trans = rasterize(render_trajectories(snaps, {3, 1}, tr, labels));
  TileOptions tt = o.tiles;
  tt.columns = 2;
  tt.row_labels = {"t = 0", "t = 2", "t = 4"};
  tt.column_labels = {"#3", "#1"};
  const TileLayout T = tile_layout(6, tt);
  CHECK(T.rows == 3);
  CHECK(T.columns == 2);
  CHECK(trans.width() == T.width);
  CHECK(trans.height() == T.height);
  CHECK(T.grid_left > 0);
  CHECK(T.grid_top > 0);
  for (int s = 0; s < 3; ++s) {
    for (int k = 0; k < 2; ++k) {
      const int grey = int(std::lround(255 * (1 - (2 * s + (k == 0 ? 3 : 1)) / 10.0)));
      CHECK(trans.get(T.tile_x(2 * s + k), T.tile_y(2 * s + k)).r == grey);
    }
  }
  // The labels put ink left of the grid (times) and above it (samples).
  CHECK(ink_in(trans, 0, T.grid_top, T.grid_left, T.grid_top + T.grid_height) > 0);
  CHECK(ink_in(trans, T.grid_left, 0, T.grid_left + T.grid_width, T.grid_top) > 0);
  CHECK_THROWS_AS(parse_trajectory_rows("diagonal"), Error);
  CHECK(parse_trajectory_rows("time") == TrajectoryRows::time);
  CHECK(parse_trajectory_rows("samples") == TrajectoryRows::samples);

  // 2-D: one sample moves from (-0.8, 0) to (0.8, 0), the others sit at the origin; its path is
  // red across the middle row, and the frame holds the whole path.
  std::vector<HostMatrix<double>> path(3);
  for (int s = 0; s < 3; ++s) {
    path[std::size_t(s)] = {{-0.8 + 0.8 * s, 0.0, 0.0, 0.0, 0.0, 0.0}, 3, 2};
  }
  RenderOptions p;
  p.scatter.size = 200;
  const Image lines = rasterize(render_trajectories(path, {0}, p));
  CHECK(lines.width() == 200);
  const ScatterBox b = scatter_box(p.scatter, 1.1 * 0.8, false);
  int red = 0;
  for (int x = 0; x < 200; ++x) {
    bool any = false;
    for (int y = int(b.v(0)) - 4; y <= int(b.v(0)) + 4; ++y) {
      any = any || lines.get(x, y).r > lines.get(x, y).g + 30;  // red, fading in from the start
    }
    red += any;
  }
  CHECK(red > 0.85 * b.side);  // the path spans 0.8 / (1.1 * 0.8) of the box
}

TEST_CASE("render_run_gif: one frame per snapshot in step order, one extent for all") {
  std::vector<std::vector<double>> snaps;
  for (int s = 0; s < 4; ++s) snaps.push_back(square_points(50, -0.1 * (s + 1), 0.1 * (s + 1)));
  const std::string dir = fake_run("render_run", snaps, 50, 2, {0, 5, 10, 1000000});
  const RunDirectory run(dir);
  const auto snapshots = run.snapshots();
  REQUIRE(snapshots.size() == 4);
  CHECK(snapshots.back().path.find("step_1000000.npy") != std::string::npos);  // numeric order
  CHECK(snapshots.back().step == 1000000);
  const std::string gif = test::tmp_path("render_run.gif");
  RenderOptions o;
  o.scatter.size = 96;
  render_run_gif(run, gif, o, 4);
  int w = 0;
  CHECK(gif_frames(gif, &w) == 4);
  CHECK(w == 96);
  CHECK_THROWS_AS(RunDirectory(test::tmp_path("no_such_run")).snapshots(), Error);
  CHECK_THROWS_AS(render_snapshot_gif({}, gif, o), Error);
  fs::remove_all(dir);
  fs::remove(gif);
}

TEST_CASE("nwgf render: .npy to .png, run directories to .png/.gif/trajectories") {
  const std::vector<double> x = square_points(300, -1, 1);
  const std::string npy = test::tmp_path("render_x.npy"), png = test::tmp_path("render_x.png");
  write_npy<double>(npy, x.data(), 300, 2);
  auto r =
      test::run_cli("render '" + npy + "' --out '" + png + "' --size 128 --circle 1 --title hi");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\"style\": \"scatter\"") != std::string::npos);
  int w = 0, h = 0;
  REQUIRE(png_size(png, &w, &h));
  CHECK(w == 128);
  CHECK(h == 128);

  // 784-D: tiles automatically.
  std::vector<double> img(12 * 784, 0.25);
  const std::string mnist = test::tmp_path("render_mnist.npy");
  write_npy<double>(mnist, img.data(), 12, 784);
  r = test::run_cli("render '" + mnist + "' --out '" + png + "' --columns 4");
  REQUIRE(r.exit_code == 0);
  REQUIRE(png_size(png, &w, &h));
  CHECK(w == 2 + 4 * 58);
  CHECK(h == 2 + 3 * 58);

  std::vector<std::vector<double>> snaps;
  for (int s = 0; s < 3; ++s) snaps.push_back(square_points(40, -0.5 * (s + 1), 0.5 * (s + 1)));
  const std::string dir = fake_run("render_cli_run", snaps, 40, 2, {0, 10, 20});
  const std::string gif = test::tmp_path("render_cli.gif");
  r = test::run_cli("render '" + dir + "' --out '" + gif + "' --size 64 --delay 3");
  REQUIRE(r.exit_code == 0);
  CHECK(gif_frames(gif) == 3);
  r = test::run_cli("render '" + dir + "' --out '" + png + "' --trajectories 4");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\"snapshots\": 3") != std::string::npos);
  REQUIRE(png_size(png, &w, &h));
  CHECK(w == 512);
  r = test::run_cli("render '" + dir + "' --out '" + png + "' --size 300");
  REQUIRE(r.exit_code == 0);
  REQUIRE(png_size(png, &w, &h));
  CHECK(w == 300);

  // --density kde: the density style, a Gaussian KDE (Scott's rule, or --bandwidth).
  r = test::run_cli("render '" + npy + "' --out '" + png + "' --size 128 --density kde");
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.find("\"style\": \"density\"") != std::string::npos);
  r = test::run_cli("render '" + npy + "' --out '" + png +
                    "' --size 128 --style density --density kde --bandwidth 0.2");
  REQUIRE(r.exit_code == 0);
  REQUIRE(png_size(png, &w, &h));
  CHECK(w == 128);

  // 784-D runs: the trajectory grid's columns are labelled with the times, its rows with the
  // samples, so it is wider and taller than the bare grid of 3 x 2 tiles of 58 px.
  std::vector<std::vector<double>> images;
  for (int s = 0; s < 3; ++s) images.emplace_back(4 * 784, 0.2 * (s + 1));
  const std::string mnist_run = fake_run("render_cli_mnist_run", images, 4, 784, {0, 4, 8});
  r = test::run_cli("render '" + mnist_run + "' --out '" + png + "' --trajectories 2");
  REQUIRE(r.exit_code == 0);
  REQUIRE(png_size(png, &w, &h));
  CHECK(w > 2 + 3 * 58);
  CHECK(h > 2 + 2 * 58);
  // --rows time: the transpose, 2 samples across and 3 snapshots down.
  r = test::run_cli("render '" + mnist_run + "' --out '" + png + "' --trajectories 2 --rows time");
  REQUIRE(r.exit_code == 0);
  int tw = 0, th = 0;
  REQUIRE(png_size(png, &tw, &th));
  CHECK(tw > 2 + 2 * 58);
  CHECK(tw < w);
  CHECK(th > 2 + 3 * 58);
  CHECK(th > h);
  r = test::run_cli("render '" + mnist_run + "' --out '" + png +
                    "' --trajectories 2 --rows sideways");
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("--rows") != std::string::npos);
  fs::remove_all(mnist_run);

  // Bad input: exit 2, one error line naming the culprit.
  const std::string txt = test::tmp_path("render_x.txt");
  std::FILE* f = std::fopen(txt.c_str(), "w");
  std::fputs("1 2\n", f);
  std::fclose(f);
  const std::string empty_dir = test::tmp_path("render_empty_run");
  fs::create_directories(empty_dir);
  const std::string jpg = test::tmp_path("x.jpg"), missing = test::tmp_path("missing.npy");
  // SVG and PDF from the same drawing.
  for (const char* ext : {".svg", ".pdf"}) {
    const std::string vec = test::tmp_path(std::string("render_x") + ext);
    r = test::run_cli("render '" + npy + "' --out '" + vec + "' --size 200 --style density");
    REQUIRE(r.exit_code == 0);
    CHECK(r.out.find("\"width\": 200") != std::string::npos);
    const std::string bytes = test::slurp(vec);
    CHECK(bytes.find(ext == std::string(".svg") ? "<svg" : "%PDF-") != std::string::npos);
    fs::remove(vec);
  }
  const std::string below_file = npy + "/a.png";
  const struct {
    std::string input, out, extra, culprit;
  } bad[] = {
      {npy, jpg, "", "--out"},
      {npy, gif, "", "--out"},
      {missing, png, "", "missing.npy"},
      {txt, png, "", "render_x.txt"},
      {npy, png, " --style tiles", "--tile"},
      {npy, png, " --style heat", "--style"},
      {npy, png, " --size 10", "--size"},
      {npy, png, " --size 5000", "--size"},
      {npy, png, " --centre 1", "--centre"},
      {npy, png, " --centre 1,x", "--centre"},
      {npy, png, " --extent -1", "--extent"},
      {npy, png, " --circle 0", "--circle"},
      {npy, png, " --tile 28", "--tile"},
      {npy, png, " --trajectories 2", "--trajectories"},
      {dir, png, " --trajectories 41", "--trajectories"},
      {empty_dir, png, "", "render_empty_run"},
      {npy, below_file, "", below_file},
      {npy, png, " --density heat", "--density"},
      {npy, png, " --density kde --style scatter", "--density"},
      {npy, png, " --density kde --bandwidth 0", "--bandwidth"},
      {npy, png, " --density kde --bandwidth -0.5", "--bandwidth"},
      {npy, png, " --density kde --bandwidth 100", "--bandwidth"},
      {npy, png, " --style density --bandwidth 0.1", "--bandwidth"},
      {npy, png, " --rows time", "--rows"},
      {dir, png, " --rows time", "--rows"},
      {dir, png, " --trajectories 2 --rows time", "--rows"},
      {dir, png, " --trajectories 2 --rows diagonal", "--rows"},
  };
  for (const auto& b : bad) {
    std::string args = "render '";
    args.append(b.input).append("' --out '").append(b.out).append("'").append(b.extra);
    CAPTURE(args);
    r = test::run_cli(args);
    CHECK(r.exit_code == 2);
    CHECK(r.err.rfind("error: ", 0) == 0);
    CHECK(r.err.find('\n') == r.err.size() - 1);
    CHECK(r.err.find(b.culprit) != std::string::npos);
  }
  for (const auto& p : {npy, png, mnist, gif, txt}) fs::remove(p);
  fs::remove_all(dir);
  fs::remove_all(empty_dir);
}
