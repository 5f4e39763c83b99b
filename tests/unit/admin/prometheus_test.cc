#include <cmath>
#include <limits>

#include <gtest/gtest.h>

#include "admin/prometheus.h"

namespace sluice::admin {
namespace {

TEST(PrometheusWriterTest, WritesFamiliesOnceAndSamples) {
  PrometheusWriter writer;
  writer.family("sluice_calls_total", "counter", "Calls finished, by cluster.");
  writer.sample("sluice_calls_total", {{"cluster", "a"}, {"code", "OK"}}, uint64_t{42});
  writer.family("sluice_calls_total", "counter", "ignored the second time");
  writer.sample("sluice_calls_total", {{"cluster", "b"}, {"code", "OK"}}, uint64_t{7});
  writer.family("sluice_up", "gauge", "1 when serving.");
  writer.sample("sluice_up", {}, 1.0);
  EXPECT_EQ(writer.str(),
            "# HELP sluice_calls_total Calls finished, by cluster.\n"
            "# TYPE sluice_calls_total counter\n"
            "sluice_calls_total{cluster=\"a\",code=\"OK\"} 42\n"
            "sluice_calls_total{cluster=\"b\",code=\"OK\"} 7\n"
            "# HELP sluice_up 1 when serving.\n"
            "# TYPE sluice_up gauge\n"
            "sluice_up 1\n");
}

TEST(PrometheusWriterTest, EscapesLabelValuesAndHelp) {
  PrometheusWriter writer;
  writer.family("m", "untyped", "a \\ b\nc \"q\"");
  writer.sample("m", {{"path", "C:\\dir\n\"x\""}}, int64_t{-3});
  EXPECT_EQ(writer.str(),
            "# HELP m a \\\\ b\\nc \"q\"\n"
            "# TYPE m untyped\n"
            "m{path=\"C:\\\\dir\\n\\\"x\\\"\"} -3\n");
}

TEST(PrometheusWriterTest, FormatsDoubles) {
  EXPECT_EQ(format_prometheus_double(0.25), "0.25");
  EXPECT_EQ(format_prometheus_double(1e21), "1e+21");
  EXPECT_EQ(format_prometheus_double(-2.0), "-2");
  EXPECT_EQ(format_prometheus_double(0.1), "0.1");
  EXPECT_EQ(format_prometheus_double(std::numeric_limits<double>::infinity()), "+Inf");
  EXPECT_EQ(format_prometheus_double(-std::numeric_limits<double>::infinity()), "-Inf");
  EXPECT_EQ(format_prometheus_double(std::nan("")), "NaN");
}

TEST(PrometheusWriterTest, AcceptsPlainIntegers) {
  PrometheusWriter writer;
  writer.sample("a", {}, 0);
  writer.sample("b", {}, size_t{18446744073709551615u});
  writer.sample("c", {{"le", "+Inf"}}, -1);
  EXPECT_EQ(writer.str(), "a 0\nb 18446744073709551615\nc{le=\"+Inf\"} -1\n");
  std::string taken = writer.take();
  EXPECT_EQ(taken, "a 0\nb 18446744073709551615\nc{le=\"+Inf\"} -1\n");
}

TEST(PrometheusWriterTest, ContentType) {
  EXPECT_EQ(PrometheusWriter::kContentType, "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace sluice::admin
