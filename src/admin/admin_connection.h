// Internal: one admin client connection. Reads a request, answers it, and repeats while the client
// keeps the connection alive; requests are answered one at a time and in order (pipelining).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <memory>
#include <string>

#include <asio/ip/tcp.hpp>
#include <asio/steady_timer.hpp>

#include "admin/admin_server_state.h"
#include "admin/http_request.h"

namespace sluice::admin {

class AdminConnection : public std::enable_shared_from_this<AdminConnection> {
 public:
  AdminConnection(std::shared_ptr<AdminServerState> server, asio::ip::tcp::socket socket);
  ~AdminConnection();  // leaves server->connections

  void start();
  void close();

 private:
  void arm_deadline(std::chrono::steady_clock::duration timeout);
  void read_request();
  void on_parser_state(HttpRequestParser::State state);
  HttpResponse dispatch(const HttpRequest& request);
  void respond(std::string bytes, bool keep_alive);
  void linger();
  void drain();

  std::shared_ptr<AdminServerState> server_;
  asio::ip::tcp::socket socket_;
  asio::steady_timer deadline_;
  HttpRequestParser parser_;
  std::array<char, 8192> read_buffer_;
  std::string write_buffer_;
  size_t drained_bytes_ = 0;
  bool closed_ = false;
};

}  // namespace sluice::admin
