#include "admin/prometheus.h"

#include <charconv>
#include <cmath>

namespace sluice::admin {
namespace {

// HELP text escapes backslash and newline; label values also escape the double quote.
void append_escaped(std::string& out, std::string_view text, bool escape_quote) {
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '"' && escape_quote) {
      out += "\\\"";
    } else {
      out += c;
    }
  }
}

}  // namespace

std::string format_prometheus_double(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  char buffer[64];
  auto [end, ec] = std::to_chars(buffer, buffer + sizeof(buffer), value);
  return std::string(buffer, end);
}

void PrometheusWriter::family(std::string_view name, std::string_view type, std::string_view help) {
  if (!families_.emplace(name).second) return;
  out_ += "# HELP ";
  out_ += name;
  out_ += ' ';
  append_escaped(out_, help, /*escape_quote=*/false);
  out_ += "\n# TYPE ";
  out_ += name;
  out_ += ' ';
  out_ += type;
  out_ += '\n';
}

void PrometheusWriter::sample_prefix(std::string_view name, const Labels& labels) {
  out_ += name;
  if (!labels.empty()) {
    out_ += '{';
    bool first = true;
    for (const auto& [label, value] : labels) {
      if (!first) out_ += ',';
      first = false;
      out_ += label;
      out_ += "=\"";
      append_escaped(out_, value, /*escape_quote=*/true);
      out_ += '"';
    }
    out_ += '}';
  }
  out_ += ' ';
}

void PrometheusWriter::sample(std::string_view name, const Labels& labels, double value) {
  sample_prefix(name, labels);
  out_ += format_prometheus_double(value);
  out_ += '\n';
}

void PrometheusWriter::sample(std::string_view name, const Labels& labels, uint64_t value) {
  sample_prefix(name, labels);
  out_ += std::to_string(value);
  out_ += '\n';
}

void PrometheusWriter::sample(std::string_view name, const Labels& labels, int64_t value) {
  sample_prefix(name, labels);
  out_ += std::to_string(value);
  out_ += '\n';
}
}  // namespace sluice::admin
