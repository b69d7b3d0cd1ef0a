// `nwgf render INPUT --out FILE.png|.svg|.pdf|.gif [...]`: pictures of point sets
// (engine/viz/render.hpp), PNG, SVG and PDF from the same drawing (engine/viz/picture.hpp).
// INPUT is a .npy point set (a scatter, density or tile picture) or a run directory of `nwgf run`
// (its last snapshot, with its weights when the run has them: intensity by weight, hollow at 0;
// an animated GIF of all snapshots; --trajectories K samples' paths).
// Prints one JSON object: out, style, n, d, and width, height (PNG, SVG, PDF; pixels or points)
// or snapshots (GIF).
#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "nwgf/engine/error.hpp"
#include "nwgf/engine/io/file_io.hpp"
#include "nwgf/engine/io/json.hpp"
#include "nwgf/engine/io/npy.hpp"
#include "nwgf/engine/parse_number.hpp"
#include "nwgf/engine/viz/render.hpp"
#include "nwgf/schemes/run/viz/run_plots.hpp"
#include "tools/nwgf/command.hpp"

namespace nwgf::cli {
namespace {

namespace fs = std::filesystem;

struct RenderCliOptions {
  std::string input, out, style = "auto", centre, tile = "28x28", title, density, rows;
  int size = 512, columns = 10, delay = 10;
  double extent = 0;
  double bandwidth = 0;
  bool bandwidth_given = false;
  std::vector<double> circles;
  index_t max_tiles = 100, trajectories = 0;
};

// A finite number, else bad input naming `flag`.
double parse_number(const std::string& s, const std::string& flag) {
  const std::optional<double> v = parse_whole_number(s);
  if (!v || !std::isfinite(*v)) throw_bad_input(flag + ": '" + s + "' is not a finite number");
  return *v;
}

std::string lower_extension(const std::string& path) {
  std::string e = fs::path(path).extension().string();
  std::transform(e.begin(), e.end(), e.begin(),
                 [](unsigned char c) { return char(std::tolower(c)); });
  return e;
}

RenderOptions library_options(const RenderCliOptions& o) {
  RenderOptions r;
  r.style = parse_render_style(o.style, "--style");
  if (o.size < 64 || o.size > 4096) {
    throw_bad_input("--size: " + std::to_string(o.size) + " is not in [64, 4096]");
  }
  r.scatter.size = o.size;
  if (!(o.extent >= 0) || !std::isfinite(o.extent)) {
    throw_bad_input("--extent: the half-width must be a positive finite number (0: fit the data)");
  }
  r.scatter.extent = o.extent;
  if (!o.centre.empty()) {
    const auto comma = o.centre.find(',');
    if (comma == std::string::npos) throw_bad_input("--centre: '" + o.centre + "' is not x,y");
    r.scatter.centre = {parse_number(o.centre.substr(0, comma), "--centre"),
                        parse_number(o.centre.substr(comma + 1), "--centre")};
  }
  for (double c : o.circles) {
    if (!(c > 0) || !std::isfinite(c)) {
      throw_bad_input("--circle: the radius must be a positive finite number, got " +
                      std::to_string(c));
    }
  }
  r.scatter.circles = o.circles;
  r.scatter.title = o.title;
  // --density picks the density style (when --style is auto) and how it is estimated.
  if (!o.density.empty()) {
    r.scatter.density = parse_density_estimate(o.density, "--density");
    if (r.style == RenderStyle::automatic) r.style = RenderStyle::density;
    if (r.style != RenderStyle::density) {
      throw_bad_input("--density: draws --style density, not --style " + o.style);
    }
  }
  if (o.bandwidth_given) {
    if (!(o.bandwidth > 0) || !std::isfinite(o.bandwidth)) {
      throw_bad_input("--bandwidth: " + std::to_string(o.bandwidth) +
                      " is not a positive finite number");
    }
    if (r.scatter.density != DensityEstimate::kde) {
      throw_bad_input("--bandwidth: only with --density kde");
    }
    r.scatter.bandwidth = o.bandwidth;
  }
  const auto x = o.tile.find('x');
  int h = 0, w = 0;
  if (x != std::string::npos) {
    h = int(parse_number(o.tile.substr(0, x), "--tile"));
    w = int(parse_number(o.tile.substr(x + 1), "--tile"));
  }
  if (x == std::string::npos || h < 1 || w < 1 || h > 4096 || w > 4096 ||
      o.tile.find('.') != std::string::npos) {
    throw_bad_input("--tile: '" + o.tile + "' is not HxW with whole numbers in [1, 4096]");
  }
  r.tiles.tile_height = h;
  r.tiles.tile_width = w;
  r.tiles.columns = o.columns;
  r.tiles.title = o.title;
  r.max_tiles = o.max_tiles;
  if (!o.rows.empty()) {
    r.trajectory_rows = parse_trajectory_rows(o.rows, "--rows");
    if (o.trajectories == 0) throw_bad_input("--rows: arranges the grid of --trajectories K");
  }
  return r;
}

const char* style_name(RenderStyle s) {
  switch (s) {
    case RenderStyle::tiles:
      return "tiles";
    case RenderStyle::density:
      return "density";
    case RenderStyle::scatter:
      return "scatter";
    default:
      return "auto";
  }
}

// The JSON line: what was drawn, and the picture's size (PNG) or the snapshots animated (GIF).
JsonObject report(const RenderCliOptions& o, RenderStyle style, index_t n, index_t d) {
  JsonObject out;
  out.add("out", o.out)
      .add("style", style_name(style))
      .add("n", (long long)n)
      .add("d", (long long)d);
  return out;
}
void print(JsonObject& out, const Picture& pic) {
  out.add("width", pic.width).add("height", pic.height);
  std::printf("%s\n", out.str().c_str());
}

// K evenly spaced samples' paths through the run's snapshots (image data: at most `columns`
// evenly spaced snapshots are read, as many as the grid shows, each column labelled with its
// snapshot's time, or step, and each row with its sample).
int render_run_trajectories(const RenderCliOptions& o, const RenderOptions& r,
                            const std::vector<SnapshotFrame>& frames) {
  HostMatrix<double> first = read_npy<double>(frames[0].path);
  const index_t n = first.rows, d = first.cols;
  if (o.trajectories > n) {
    throw_bad_input("--trajectories: " + std::to_string(o.trajectories) +
                    " samples asked, the run has " + std::to_string(n));
  }
  const RenderStyle style = resolve_style(r, n, d);
  if (!o.rows.empty() && style != RenderStyle::tiles) {
    throw_bad_input("--rows: only image data (d = tile H*W, --tile) is drawn as a grid; d = " +
                    std::to_string(d) + " is drawn as " + style_name(style) + " paths");
  }
  std::vector<std::size_t> shown;
  const std::size_t S = frames.size();
  const std::size_t keep =
      style == RenderStyle::tiles ? std::min<std::size_t>(S, std::size_t(o.columns)) : S;
  for (std::size_t k = 0; k < keep; ++k)
    shown.push_back(keep == 1 ? S - 1 : k * (S - 1) / (keep - 1));
  std::vector<HostMatrix<double>> snapshots;
  std::vector<std::string> labels;
  for (std::size_t i : shown) {
    snapshots.push_back(i == 0 ? first : read_npy<double>(frames[i].path));
    labels.push_back(snapshot_label(frames[i]));
  }
  std::vector<index_t> rows;
  for (index_t k = 0; k < o.trajectories; ++k) rows.push_back(k * n / o.trajectories);
  const Picture img = render_trajectories(snapshots, rows, r, labels);
  write_picture(o.out, img);
  JsonObject out = report(o, style, n, d);
  out.add("snapshots", (long long)snapshots.size());
  print(out, img);
  return 0;
}

int run_render(const RenderCliOptions& o) {
  std::error_code ec;
  const bool run_dir = fs::is_directory(o.input, ec);
  if (!run_dir && !fs::exists(o.input, ec))
    throw_bad_input("INPUT: no such file or directory: " + o.input);
  if (!run_dir && lower_extension(o.input) != ".npy") {
    throw_bad_input("INPUT: " + o.input + " is neither a .npy file nor a run directory");
  }
  const std::string kind = lower_extension(o.out);
  if (kind != ".gif" && kind != ".png" && kind != ".svg" && kind != ".pdf") {
    throw_bad_input("--out: " + o.out + " must end in .png, .svg, .pdf or .gif");
  }
  const RenderOptions r = library_options(o);
  if (!run_dir) {
    if (kind == ".gif") throw_bad_input("--out: a .gif animates a run directory, INPUT is a file");
    if (o.trajectories > 0) throw_bad_input("--trajectories: needs a run directory as INPUT");
    const HostMatrix<double> x = read_npy<double>(o.input);
    const Picture img = render_points(x.data.data(), x.rows, x.cols, r);
    write_picture(o.out, img);
    JsonObject out = report(o, resolve_style(r, x.rows, x.cols), x.rows, x.cols);
    print(out, img);
    return 0;
  }
  const RunDirectory run(o.input);
  std::vector<std::string> paths;
  for (const SnapshotFile& s : run.snapshots()) paths.push_back(s.path);
  if (kind == ".gif") {
    if (o.trajectories > 0) throw_bad_input("--trajectories: draws a .png, not a .gif");
    render_run_gif(run, o.out, r, o.delay);
    const NpyInfo last = parse_npy_header(read_file(paths.back()), paths.back());
    JsonObject out = report(o, resolve_style(r, last.rows, last.cols), last.rows, last.cols);
    out.add("snapshots", (long long)paths.size());
    std::printf("%s\n", out.str().c_str());
    return 0;
  }
  if (o.trajectories > 0) return render_run_trajectories(o, r, run_snapshot_frames(run));
  const HostMatrix<double> last = read_npy<double>(paths.back());
  // Weighted particles (an ift run): the snapshot's weights beside it colour the scatter.
  const std::vector<double> w = run.read_weights(run.snapshots().back().step);
  if (!w.empty() && index_t(w.size()) != last.rows) {
    throw_bad_input(paths.back() + ": its weights file has " + std::to_string(w.size()) +
                    " entries, the snapshot " + std::to_string(last.rows) + " rows");
  }
  const bool weighted = !w.empty() && resolve_style(r, last.rows, last.cols) == RenderStyle::scatter;
  const Picture img = weighted ? render_weighted_scatter(last.data.data(), w.data(), last.rows,
                                                       last.cols, r.scatter)
                             : render_points(last.data.data(), last.rows, last.cols, r);
  write_picture(o.out, img);
  JsonObject out = report(o, resolve_style(r, last.rows, last.cols), last.rows, last.cols);
  print(out, img);
  return 0;
}

CommandRegistrar reg_cmd_render(
    "render", "Pictures of a point set (.npy) or a run directory: scatter/density/tiles as PNG, SVG or PDF; GIF",
    [](CLI::App& sub, const GlobalOptions&) {
      auto o = std::make_shared<RenderCliOptions>();
      sub.add_option("INPUT", o->input, "A point set (N, d) .npy, or a run directory")->required();
      sub.add_option("--out", o->out, "Output picture: .png, .svg, .pdf, or .gif (run directory)")->required();
      sub.add_option("--style", o->style,
                     "auto|scatter|density|tiles (auto: tiles when d = H*W, density for N > "
                     "20000, else scatter)");
      sub.add_option("--size", o->size, "Scatter/density picture size in pixels, 64..4096 (512)");
      sub.add_option("--extent", o->extent, "Half-width of the shown box (default: fit the data)");
      sub.add_option("--centre", o->centre, "Centre of the box, x,y (default 0,0)");
      sub.add_option("--circle", o->circles, "Draw a circle of radius R around the centre")
          ->allow_extra_args(false);
      sub.add_option("--title", o->title, "Title drawn at the top");
      sub.add_option("--density", o->density,
                     "histogram|kde: the density style's estimate (histogram; kde: Gaussian "
                     "kernel density estimate); picks --style density when --style is auto");
      CLI::Option* bandwidth =
          sub.add_option("--bandwidth", o->bandwidth,
                         "kde: the Gaussian's standard deviation (default: Scott's rule)");
      sub.add_option("--tile", o->tile, "Tile shape HxW of image data (28x28)");
      sub.add_option("--columns", o->columns,
                     "Tiles per grid row (10); --trajectories of image data: at most C snapshots")
          ->check(CLI::Range(1, 1000));
      sub.add_option("--max-tiles", o->max_tiles, "Draw at most K samples as tiles (100)")
          ->check(CLI::Range(index_t(1), index_t(1) << 20));
      sub.add_option("--trajectories", o->trajectories,
                     "Run directory: K evenly spaced samples' paths through the snapshots")
          ->check(CLI::Range(index_t(1), index_t(1) << 20));
      sub.add_option("--rows", o->rows,
                     "--trajectories of image data: the grid's rows are the samples (samples, the "
                     "snapshots across) or the snapshots (time, the samples across)");
      sub.add_option("--delay", o->delay, "GIF: hundredths of a second per frame (10)")
          ->check(CLI::Range(1, 10000));
      return [o, bandwidth] {
        o->bandwidth_given = bandwidth->count() > 0;
        return run_render(*o);
      };
    });

}  // namespace
}  // namespace nwgf::cli
