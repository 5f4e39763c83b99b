#include "discovery/file_resolver.h"

#include <sys/inotify.h>
#include <unistd.h>

#include <array>
#include <fstream>
#include <sstream>

#include "discovery/endpoints_file.h"

namespace sluice::discovery {

FileResolver::FileResolver(asio::io_context& io, std::string path)
    : path_(std::move(path)), events_(io) {
  auto slash = path_.rfind('/');
  dir_ = slash == std::string::npos ? "." : path_.substr(0, slash == 0 ? 1 : slash);
  name_ = slash == std::string::npos ? path_ : path_.substr(slash + 1);
}

FileResolver::~FileResolver() {
  *alive_ = false;
  asio::error_code ec;
  events_.close(ec);
}

void FileResolver::start(Callback on_update) {
  on_update_ = std::move(on_update);
  int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (fd >= 0) {
    // The folder, not the file: a rename into place replaces the file's inode.
    inotify_add_watch(fd, dir_.c_str(), IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE | IN_DELETE);
    events_.assign(fd);
  }
  read_file();
  if (events_.is_open()) watch();
}

void FileResolver::read_file() {
  std::ifstream in(path_);
  if (!in) {
    on_update_(Unexpected(path_ + ": cannot read the endpoints file"));
    return;
  }
  std::stringstream text;
  text << in.rdbuf();
  auto parsed = parse_endpoints_file(text.str());
  if (!parsed) {
    on_update_(Unexpected(path_ + ": " + parsed.error()));
    return;
  }
  if (last_ && *last_ == *parsed) return;  // touched, not changed
  last_ = *parsed;
  on_update_(std::move(*parsed));
}

void FileResolver::watch() {
  events_.async_wait(asio::posix::stream_descriptor::wait_read,
                     [this, alive = std::weak_ptr<bool>(alive_)](asio::error_code ec) {
                       if (ec || alive.expired()) return;
                       alignas(inotify_event) std::array<char, 4096> buf;
                       bool ours = false;
                       for (;;) {
                         ssize_t n = ::read(events_.native_handle(), buf.data(), buf.size());
                         if (n <= 0) break;
                         for (ssize_t off = 0; off < n;) {
                           auto* ev = reinterpret_cast<inotify_event*>(buf.data() + off);
                           if (ev->len > 0 && name_ == ev->name) ours = true;
                           off += static_cast<ssize_t>(sizeof(inotify_event) + ev->len);
                         }
                       }
                       if (ours) read_file();
                       watch();
                     });
}

}  // namespace sluice::discovery
