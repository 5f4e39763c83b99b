// Bytes waiting to be written to the other side of a call. Its size is bounded by the HTTP/2
// window of the side they came from, because that window is only re-opened once they are read.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace sluice::http2 {

class ByteQueue {
 public:
  void append(const uint8_t* data, size_t len) {
    if (head_ == buf_.size()) {  // drained: reuse the storage from the start
      buf_.clear();
      head_ = 0;
    } else if (head_ > 65536 && head_ * 2 > buf_.size()) {
      buf_.erase(0, head_);  // keep the memory bounded by what is still queued
      head_ = 0;
    }
    buf_.append(reinterpret_cast<const char*>(data), len);
  }
  // Copies up to `len` bytes into `out` and drops them from the queue.
  size_t read(uint8_t* out, size_t len) {
    size_t n = std::min(len, size());
    std::memcpy(out, buf_.data() + head_, n);
    head_ += n;
    return n;
  }
  size_t size() const { return buf_.size() - head_; }
  bool empty() const { return size() == 0; }
  size_t capacity() const { return buf_.capacity(); }
  // Frees the storage (a finished call's buffer should not keep megabytes).
  void release() {
    std::string().swap(buf_);
    head_ = 0;
  }

 private:
  std::string buf_;
  size_t head_ = 0;
};

}  // namespace sluice::http2
