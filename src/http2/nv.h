// Small translations between our types and nghttp2's, shared by both connection sides.
#pragma once

#include <nghttp2/nghttp2.h>

#include <vector>

#include "http2/header_block.h"
#include "http2/stream.h"

namespace sluice::http2 {

inline std::vector<nghttp2_nv> to_nv(const HeaderBlock& headers) {
  std::vector<nghttp2_nv> nv(headers.size());
  for (size_t i = 0; i < headers.size(); ++i) {
    auto n = headers.name(i);
    auto v = headers.value(i);
    nv[i] = {reinterpret_cast<uint8_t*>(const_cast<char*>(n.data())),
             reinterpret_cast<uint8_t*>(const_cast<char*>(v.data())), n.size(), v.size(),
             NGHTTP2_NV_FLAG_NONE};
  }
  return nv;
}

// A BodyRead as a data source read callback's return value and flags.
inline ssize_t to_data_source_result(BodyRead r, uint32_t* flags) {
  switch (r.kind) {
    case BodyRead::Kind::kDeferred:
      return NGHTTP2_ERR_DEFERRED;
    case BodyRead::Kind::kEnd:
      *flags |= NGHTTP2_DATA_FLAG_EOF;
      break;
    case BodyRead::Kind::kEndWithTrailers:  // the stream submitted its trailers itself
      *flags |= NGHTTP2_DATA_FLAG_EOF | NGHTTP2_DATA_FLAG_NO_END_STREAM;
      break;
    case BodyRead::Kind::kData:
      break;
  }
  return static_cast<ssize_t>(r.length);
}

}  // namespace sluice::http2
