#include "http2/grpc/status.h"

#include <gtest/gtest.h>

#include <string>

namespace sluice::wire {
namespace {

TEST(StatusName, AllCodes) {
  const char* expected[kStatusCodeCount] = {"OK",
                                            "CANCELLED",
                                            "UNKNOWN",
                                            "INVALID_ARGUMENT",
                                            "DEADLINE_EXCEEDED",
                                            "NOT_FOUND",
                                            "ALREADY_EXISTS",
                                            "PERMISSION_DENIED",
                                            "RESOURCE_EXHAUSTED",
                                            "FAILED_PRECONDITION",
                                            "ABORTED",
                                            "OUT_OF_RANGE",
                                            "UNIMPLEMENTED",
                                            "INTERNAL",
                                            "UNAVAILABLE",
                                            "DATA_LOSS",
                                            "UNAUTHENTICATED"};
  for (int i = 0; i < kStatusCodeCount; ++i) {
    EXPECT_EQ(status_name(static_cast<StatusCode>(i)), expected[i]) << i;
  }
  EXPECT_EQ(status_name(StatusCode::kUnauthenticated), "UNAUTHENTICATED");
}

TEST(StatusName, OutOfRangeValueIsUnknown) {
  EXPECT_EQ(status_name(static_cast<StatusCode>(200)), "UNKNOWN");
}

TEST(ParseGrpcStatus, EveryKnownCode) {
  for (int i = 0; i < kStatusCodeCount; ++i) {
    const auto parsed = parse_grpc_status(std::to_string(i));
    ASSERT_TRUE(parsed.has_value()) << i;
    EXPECT_EQ(static_cast<int>(*parsed), i);
  }
}

TEST(ParseGrpcStatus, LeadingZerosAreDecimal) {
  EXPECT_EQ(parse_grpc_status("014"), StatusCode::kUnavailable);
  EXPECT_EQ(parse_grpc_status("0"), StatusCode::kOk);
}

TEST(ParseGrpcStatus, LargeValuesMapToUnknown) {
  EXPECT_EQ(parse_grpc_status("17"), StatusCode::kUnknown);
  EXPECT_EQ(parse_grpc_status("255"), StatusCode::kUnknown);
  EXPECT_EQ(parse_grpc_status("256"), StatusCode::kUnknown);         // not truncated to 0
  EXPECT_EQ(parse_grpc_status("4294967296"), StatusCode::kUnknown);  // 2^32: no wrap to 0
  EXPECT_EQ(parse_grpc_status("99999999999999999999999999"), StatusCode::kUnknown);
}

TEST(ParseGrpcStatus, RejectsMalformed) {
  for (const char* bad : {"", " 0", "0 ", "+1", "-1", "1a", "a", "0x1", "1.0", "١"}) {
    EXPECT_FALSE(parse_grpc_status(bad).has_value()) << "'" << bad << "'";
  }
}

TEST(StatusFromHttp, DocumentedMapping) {
  EXPECT_EQ(status_from_http(400), StatusCode::kInternal);
  EXPECT_EQ(status_from_http(401), StatusCode::kUnauthenticated);
  EXPECT_EQ(status_from_http(403), StatusCode::kPermissionDenied);
  EXPECT_EQ(status_from_http(404), StatusCode::kUnimplemented);
  EXPECT_EQ(status_from_http(429), StatusCode::kUnavailable);
  EXPECT_EQ(status_from_http(502), StatusCode::kUnavailable);
  EXPECT_EQ(status_from_http(503), StatusCode::kUnavailable);
  EXPECT_EQ(status_from_http(504), StatusCode::kUnavailable);
}

TEST(StatusFromHttp, EverythingElseIsUnknown) {
  for (int code : {0, 100, 200, 204, 301, 402, 405, 408, 500, 501, 505, 999, -1}) {
    EXPECT_EQ(status_from_http(code), StatusCode::kUnknown) << code;
  }
}

TEST(StatusFromRstStream, DocumentedMapping) {
  EXPECT_EQ(status_from_rst_stream(h2_error::kRefusedStream), StatusCode::kUnavailable);
  EXPECT_EQ(status_from_rst_stream(h2_error::kCancel), StatusCode::kCancelled);
  EXPECT_EQ(status_from_rst_stream(h2_error::kEnhanceYourCalm), StatusCode::kResourceExhausted);
  EXPECT_EQ(status_from_rst_stream(h2_error::kInadequateSecurity), StatusCode::kPermissionDenied);
  for (uint32_t code :
       {h2_error::kNoError, h2_error::kProtocolError, h2_error::kInternalError,
        h2_error::kFlowControlError, h2_error::kSettingsTimeout, h2_error::kFrameSizeError,
        h2_error::kCompressionError, h2_error::kConnectError, h2_error::kStreamClosed,
        h2_error::kHttp11Required}) {
    EXPECT_EQ(status_from_rst_stream(code), StatusCode::kInternal) << code;
  }
}

TEST(DownstreamResetCode, PassesOnlyCodesTrueOfThisHop) {
  EXPECT_EQ(downstream_reset_code(h2_error::kCancel), h2_error::kCancel);
  EXPECT_EQ(downstream_reset_code(h2_error::kEnhanceYourCalm), h2_error::kEnhanceYourCalm);
  EXPECT_EQ(downstream_reset_code(h2_error::kInadequateSecurity), h2_error::kInadequateSecurity);
  // A response had begun: "refused" (safe to retry) is no longer true.
  EXPECT_EQ(downstream_reset_code(h2_error::kRefusedStream), h2_error::kInternalError);
  for (uint32_t code : {h2_error::kNoError, h2_error::kProtocolError, h2_error::kFlowControlError,
                        h2_error::kStreamClosed, h2_error::kCompressionError}) {
    EXPECT_EQ(downstream_reset_code(code), h2_error::kInternalError) << code;
  }
}

TEST(StatusFromRstStream, NumericCodesMatchRfc9113) {
  EXPECT_EQ(status_from_rst_stream(0x7), StatusCode::kUnavailable);
  EXPECT_EQ(status_from_rst_stream(0x8), StatusCode::kCancelled);
  EXPECT_EQ(status_from_rst_stream(0xb), StatusCode::kResourceExhausted);
  EXPECT_EQ(status_from_rst_stream(0xc), StatusCode::kPermissionDenied);
  EXPECT_EQ(status_from_rst_stream(0xdeadbeef), StatusCode::kInternal);
}

TEST(PercentEncode, PrintableAsciiPassesThrough) {
  EXPECT_EQ(percent_encode_message("Hello, world! ~{}"), "Hello, world! ~{}");
  EXPECT_EQ(percent_encode_message(""), "");
}

TEST(PercentEncode, EscapesPercentControlsAndNonAscii) {
  EXPECT_EQ(percent_encode_message("100%"), "100%25");
  EXPECT_EQ(percent_encode_message("a\nb\tc"), "a%0Ab%09c");
  EXPECT_EQ(percent_encode_message(std::string("\0\x1f\x7f", 3)), "%00%1F%7F");
  EXPECT_EQ(percent_encode_message("\xc3\xa9t\xc3\xa9"), "%C3%A9t%C3%A9");  // "été"
  EXPECT_EQ(percent_encode_message(" "), " ");
}

TEST(PercentDecode, DecodesEscapesInEitherCase) {
  EXPECT_EQ(percent_decode_message("100%25"), "100%");
  EXPECT_EQ(percent_decode_message("%c3%A9"), "\xc3\xa9");
  EXPECT_EQ(percent_decode_message("%00"), std::string("\0", 1));
}

TEST(PercentDecode, MalformedEscapesPassThrough) {
  EXPECT_EQ(percent_decode_message("%"), "%");
  EXPECT_EQ(percent_decode_message("ab%"), "ab%");
  EXPECT_EQ(percent_decode_message("%4"), "%4");
  EXPECT_EQ(percent_decode_message("%zz"), "%zz");
  EXPECT_EQ(percent_decode_message("%4g1"), "%4g1");
  EXPECT_EQ(percent_decode_message("%%41"), "%A");
}

TEST(PercentRoundTrip, EveryByteValue) {
  std::string all;
  for (int b = 0; b < 256; ++b) all += static_cast<char>(b);
  const std::string encoded = percent_encode_message(all);
  for (char c : encoded) {
    EXPECT_GE(static_cast<unsigned char>(c), 0x20);
    EXPECT_LE(static_cast<unsigned char>(c), 0x7E);
  }
  EXPECT_EQ(percent_decode_message(encoded), all);
}

}  // namespace
}  // namespace sluice::wire
