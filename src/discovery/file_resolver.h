// File discovery: the endpoints file is read at start and again whenever it is closed after
// writing or renamed into place (inotify on its folder, so atomic renames are seen). A file
// that does not parse is reported and ignored: the last good set keeps serving.
#pragma once

#include <asio/io_context.hpp>
#include <asio/posix/stream_descriptor.hpp>
#include <optional>
#include <string>

#include "discovery/resolver.h"

namespace sluice::discovery {

class FileResolver final : public Resolver {
 public:
  FileResolver(asio::io_context& io, std::string path);
  ~FileResolver() override;
  void start(Callback on_update) override;
  std::string source() const override { return "file:" + path_; }

 private:
  void read_file();
  void watch();

  std::string path_;
  std::string dir_;
  std::string name_;
  Callback on_update_;
  asio::posix::stream_descriptor events_;
  std::optional<EndpointList> last_;
  std::shared_ptr<bool> alive_ = std::make_shared<bool>(true);
};

}  // namespace sluice::discovery
