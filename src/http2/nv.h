// HeaderBlock -> nghttp2's name/value array (nghttp2 copies the bytes at submit time).
#pragma once

#include <nghttp2/nghttp2.h>

#include <vector>

#include "http2/header_block.h"

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

}  // namespace sluice::http2
