// Writes metrics in the Prometheus text exposition format 0.0.4.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

namespace sluice::admin {

class PrometheusWriter {
 public:
  using Labels = std::vector<std::pair<std::string, std::string>>;

  static constexpr std::string_view kContentType = "text/plain; version=0.0.4; charset=utf-8";

  // Writes "# HELP" and "# TYPE" for a family the first time it is named; later calls with the
  // same name write nothing. `type` is counter, gauge, histogram, summary or untyped. Call it
  // before the family's samples; samples of one family must be written together.
  void family(std::string_view name, std::string_view type, std::string_view help);

  // One sample line: name{label="value",...} value. Label names and metric names are the
  // caller's (they must match [a-zA-Z_:][a-zA-Z0-9_:]*); label values are escaped here.
  void sample(std::string_view name, const Labels& labels, double value);
  void sample(std::string_view name, const Labels& labels, uint64_t value);
  void sample(std::string_view name, const Labels& labels, int64_t value);
  // Any other integer type (int, size_t, ...), so that sample(n, {}, 0) is not ambiguous.
  template <class Int>
  requires std::is_integral_v<Int> &&
      (!std::is_same_v<Int, bool>)void sample(std::string_view name, const Labels& labels,
                                              Int value) {
    if constexpr (std::is_signed_v<Int>) {
      sample(name, labels, static_cast<int64_t>(value));
    } else {
      sample(name, labels, static_cast<uint64_t>(value));
    }
  }

  const std::string& str() const { return out_; }
  std::string take() { return std::move(out_); }

 private:
  void sample_prefix(std::string_view name, const Labels& labels);

  std::string out_;
  std::set<std::string, std::less<>> families_;
};

// Exposed for tests: "+Inf", "-Inf", "NaN", or the shortest decimal that round-trips.
std::string format_prometheus_double(double value);

}  // namespace sluice::admin
