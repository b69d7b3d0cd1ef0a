#pragma once
// Subcommand registry of the `nwgf` CLI. Each tools/nwgf/cmd_*.cpp registers itself with a
// static CommandRegistrar; main.cpp builds the CLI11 app from the registry. The CLI is a thin
// client of the library: commands parse flags, call the library, print results.
#include <CLI/CLI.hpp>

#include <functional>
#include <string>
#include <vector>

#include "nwgf/engine/comm/comm.hpp"

namespace nwgf::cli {

// Options every subcommand sees.
struct GlobalOptions {
  int threads = 0;  // 0: NWGF_THREADS, else all cores
  // The process's ranks (engine/comm/comm.hpp): MPI under an MPI launcher, else one process.
  const Comm* comm = nullptr;
};

// setup adds the subcommand's options and returns the function that runs it (its exit code).
using CommandSetup = std::function<std::function<int()>(CLI::App& sub, const GlobalOptions& g)>;

struct CommandSpec {
  std::string name;
  std::string description;
  CommandSetup setup;
};

std::vector<CommandSpec>& command_registry();

struct CommandRegistrar {
  CommandRegistrar(std::string name, std::string description, CommandSetup setup) {
    command_registry().push_back({std::move(name), std::move(description), std::move(setup)});
  }
};

}  // namespace nwgf::cli
