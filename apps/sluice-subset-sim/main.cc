// sluice-subset-sim: a whole fleet of clients choosing subsets with core::choose_subset, to see
// balance (connections and load per backend) and churn (connections moved by membership
// changes and by rotation) before a mode is deployed.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/subset.h"

namespace {

using sluice::core::Endpoint;
using sluice::core::SubsetMode;

struct Options {
  uint64_t clients = 10'000;
  uint32_t backends = 1'000;
  size_t subset = 20;
  uint32_t churn = 1;
  uint64_t rotations = 5;
};

// Backends by a fleet-wide id, so subsets over different memberships compare.
struct Fleet {
  std::vector<Endpoint> endpoints;
  std::vector<uint32_t> ids;

  void add(uint32_t id) {
    endpoints.push_back({fmt::format("10.0.{}.{}:50051", id / 256, id % 256)});
    ids.push_back(id);
  }
};

using Subsets = std::vector<std::vector<uint32_t>>;  // per client: ascending backend ids

Subsets assign(const Fleet& fleet, const Options& options, SubsetMode mode, uint64_t rotation) {
  Subsets subsets(options.clients);
  for (uint64_t client = 0; client < options.clients; ++client) {
    const sluice::core::SubsetParams params{.size = options.subset,
                                            .mode = mode,
                                            .client_id = client,
                                            .client_count = options.clients,
                                            .rotation = rotation};
    for (const size_t i : sluice::core::choose_subset(fleet.endpoints, params)) {
      subsets[client].push_back(fleet.ids[i]);
    }
    std::sort(subsets[client].begin(), subsets[client].end());
  }
  return subsets;
}

// Share of `before`'s connections whose backend is no longer in the client's subset.
double moved_share(const Subsets& before, const Subsets& after) {
  size_t moved = 0, total = 0;
  for (size_t c = 0; c < before.size(); ++c) {
    std::vector<uint32_t> gone;
    std::set_difference(before[c].begin(), before[c].end(), after[c].begin(), after[c].end(),
                        std::back_inserter(gone));
    moved += gone.size();
    total += before[c].size();
  }
  return total == 0 ? 0.0 : static_cast<double>(moved) / static_cast<double>(total);
}

nlohmann::json simulate(const Options& options, SubsetMode mode) {
  const auto started = std::chrono::steady_clock::now();
  Fleet fleet;
  for (uint32_t id = 0; id < options.backends; ++id) fleet.add(id);
  const Subsets base = assign(fleet, options, mode, 0);

  std::vector<size_t> connections(options.backends, 0);
  std::vector<double> load(options.backends, 0.0);
  for (const auto& subset : base) {
    for (const uint32_t id : subset) {
      ++connections[id];
      load[id] += 1.0 / static_cast<double>(subset.size());  // round robin of 1.0 unit
    }
  }
  const auto [min_conn, max_conn] = std::minmax_element(connections.begin(), connections.end());
  const double mean_conn =
      static_cast<double>(options.clients * base[0].size()) / static_cast<double>(options.backends);
  const double mean_load = static_cast<double>(options.clients) / options.backends;
  nlohmann::json result = {
      {"mode", mode == SubsetMode::kDeterministic ? "deterministic" : "rendezvous"},
      {"connections", {{"min", *min_conn}, {"max", *max_conn}, {"mean", mean_conn}}},
      {"load_max_over_mean", *std::max_element(load.begin(), load.end()) / mean_load}};

  if (options.churn > 0) {
    // Remove every (n/K)-th backend; add K fresh ones after the last id.
    const uint32_t step = options.backends / options.churn;
    Fleet fewer;
    Fleet more = fleet;
    size_t had_to_move = 0;
    for (uint32_t id = 0; id < options.backends; ++id) {
      if (id % step == 0 && id / step < options.churn) {
        had_to_move += connections[id];
      } else {
        fewer.add(id);
      }
    }
    for (uint32_t k = 0; k < options.churn; ++k) more.add(options.backends + k);
    const double total = static_cast<double>(options.clients * base[0].size());
    result["remove"] = {{"backends", options.churn},
                        {"moved_share", moved_share(base, assign(fewer, options, mode, 0))},
                        {"had_to_move_share", static_cast<double>(had_to_move) / total},
                        {"ideal_share", static_cast<double>(options.churn) / options.backends}};
    result["add"] = {
        {"backends", options.churn},
        {"moved_share", moved_share(base, assign(more, options, mode, 0))},
        {"ideal_share", static_cast<double>(options.churn) / (options.backends + options.churn)}};
  }
  if (options.rotations > 0) {
    double sum = 0;
    Subsets previous = base;
    for (uint64_t epoch = 1; epoch <= options.rotations; ++epoch) {
      Subsets next = assign(fleet, options, mode, epoch);
      sum += moved_share(previous, next);
      previous = std::move(next);
    }
    result["rotation"] = {{"epochs", options.rotations},
                          {"mean_moved_share", sum / static_cast<double>(options.rotations)}};
  }

  nlohmann::json goals = nlohmann::json::array();
  auto goal = [&](const std::string& name, bool pass, double value, double limit,
                  bool is_share = false) {
    goals.push_back({{"goal", name},
                     {"pass", pass},
                     {"value", value},
                     {"limit", limit},
                     {"is_share", is_share}});
  };
  nlohmann::json skipped = nlohmann::json::array();
  const bool exact = (options.clients * base[0].size()) % options.backends == 0;
  if (mode == SubsetMode::kDeterministic && !exact) {
    skipped.push_back("balance goals: clients x subset is not a multiple of backends");
  }
  if (mode == SubsetMode::kDeterministic && exact) {
    const double spread = static_cast<double>(*max_conn - *min_conn);
    goal("connections max-min <= 1", spread <= 1, spread, 1);
    const double ratio = result["load_max_over_mean"];
    goal("load max/mean <= 1.05", ratio <= 1.05, ratio, 1.05);
  }
  if (result.contains("remove")) {
    const double moved = result["remove"]["moved_share"];
    const double limit = 2 * result["remove"]["ideal_share"].get<double>();
    goal(fmt::format("removing {} backend(s) moves <= 2x the ideal share", options.churn),
         moved <= limit, moved, limit, true);
  }
  result["goals"] = goals;
  result["skipped_goals"] = skipped;
  result["seconds"] =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

std::string percent(const nlohmann::json& share) {
  return fmt::format("{:.2f}%", 100 * share.get<double>());
}

// One column per mode; rows only where the figure was measured.
std::string table(const Options& options, const std::vector<nlohmann::json>& results) {
  std::string out = fmt::format(
      "sluice-subset-sim: {} clients, {} backends, subset {}, churn {}, rotations {}\n\n",
      options.clients, options.backends, options.subset, options.churn, options.rotations);
  auto row = [&](const std::string& label, auto cell) {
    out += fmt::format("{:<40}", label);
    for (const auto& r : results) out += fmt::format("{:>15}", cell(r));
    out += "\n";
  };
  row("", [](const nlohmann::json& r) { return r["mode"].get<std::string>(); });
  row("connections per backend: min",
      [](const nlohmann::json& r) { return r["connections"]["min"].dump(); });
  row("connections per backend: max",
      [](const nlohmann::json& r) { return r["connections"]["max"].dump(); });
  row("connections per backend: mean", [](const nlohmann::json& r) {
    return fmt::format("{:.2f}", r["connections"]["mean"].get<double>());
  });
  row("load per backend: max/mean", [](const nlohmann::json& r) {
    return fmt::format("{:.3f}", r["load_max_over_mean"].get<double>());
  });
  if (options.churn > 0) {
    const auto k = std::to_string(options.churn);
    row("remove " + k + ": connections moved",
        [](const nlohmann::json& r) { return percent(r["remove"]["moved_share"]); });
    row("remove " + k + ": had to move (on removed)",
        [](const nlohmann::json& r) { return percent(r["remove"]["had_to_move_share"]); });
    row("remove " + k + ": ideal (K/n)",
        [](const nlohmann::json& r) { return percent(r["remove"]["ideal_share"]); });
    row("add " + k + ": connections moved",
        [](const nlohmann::json& r) { return percent(r["add"]["moved_share"]); });
    row("add " + k + ": ideal (K/(n+K))",
        [](const nlohmann::json& r) { return percent(r["add"]["ideal_share"]); });
  }
  if (options.rotations > 0) {
    row("rotation: mean moved per epoch",
        [](const nlohmann::json& r) { return percent(r["rotation"]["mean_moved_share"]); });
  }
  row("sim seconds",
      [](const nlohmann::json& r) { return fmt::format("{:.2f}", r["seconds"].get<double>()); });
  out += "\n";
  for (const auto& r : results) {
    for (const auto& g : r["goals"]) {
      auto figure = [&](const char* key) {
        return g["is_share"].get<bool>() ? percent(g[key])
                                         : fmt::format("{:.4g}", g[key].get<double>());
      };
      out += fmt::format("{} {}: {} (got {}, limit {})\n", g["pass"].get<bool>() ? "PASS" : "FAIL",
                         r["mode"].get<std::string>(), g["goal"].get<std::string>(),
                         figure("value"), figure("limit"));
    }
    for (const auto& note : r["skipped_goals"]) {
      out += fmt::format("SKIP {}: {}\n", r["mode"].get<std::string>(), note.get<std::string>());
    }
  }
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"sluice-subset-sim: balance and churn of subsetting over a simulated fleet"};
  Options options;
  std::string mode = "both", json_path;
  app.add_option("--clients", options.clients, "client instances (dense ids 0..clients-1)")
      ->check(CLI::Range(uint64_t{1}, uint64_t{1'000'000}));
  app.add_option("--backends", options.backends, "backends in the cluster")
      ->check(CLI::Range(1, 32'768));  // ids, added ones too, fit 10.0.x.y
  app.add_option("--subset", options.subset, "endpoints per client (0 = all)");
  app.add_option("--mode", mode, "deterministic, rendezvous or both")
      ->transform(CLI::IsMember({"deterministic", "rendezvous", "both"}, CLI::ignore_case));
  app.add_option("--churn", options.churn, "backends removed, and separately added (0 = skip)");
  app.add_option("--rotations", options.rotations, "rotation epochs after epoch 0 (0 = skip)");
  app.add_option("--json", json_path, "also write the results as JSON to this file ('-' = stdout)");
  CLI11_PARSE(app, argc, argv);
  if (options.churn >= options.backends) {
    std::fprintf(stderr, "sluice-subset-sim: --churn must be below --backends\n");
    return 2;
  }

  std::vector<nlohmann::json> results;
  if (mode != "rendezvous") results.push_back(simulate(options, SubsetMode::kDeterministic));
  if (mode != "deterministic") results.push_back(simulate(options, SubsetMode::kRendezvous));
  const nlohmann::json json = {{"clients", options.clients},     {"backends", options.backends},
                               {"subset", options.subset},       {"churn", options.churn},
                               {"rotations", options.rotations}, {"results", results}};
  if (json_path != "-") std::fputs(table(options, results).c_str(), stdout);
  if (json_path == "-") {
    std::fputs((json.dump(2) + "\n").c_str(), stdout);
  } else if (!json_path.empty()) {
    std::ofstream out(json_path);
    out << json.dump(2) << "\n";
    if (!out) {
      std::fprintf(stderr, "sluice-subset-sim: --json: cannot write %s\n", json_path.c_str());
      return 2;
    }
  }
  return 0;
}
