// The server over real loopback sockets: the io_context runs on its own thread, as the control
// thread would; the test talks to it through plain blocking sockets with receive timeouts.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <future>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>

#include <gtest/gtest.h>
#include <asio.hpp>

#include "admin/admin_server.h"

namespace sluice::admin {
namespace {

using std::chrono::milliseconds;
using std::chrono::steady_clock;

struct ParsedResponse {
  int status = 0;
  std::string head;  // status line and headers
  std::string body;
};

// A blocking loopback client; every receive gives up after 5 s so a broken server fails the test
// instead of hanging it.
class TestClient {
 public:
  explicit TestClient(uint16_t port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    timeval timeout{5, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0;
  }
  ~TestClient() { ::close(fd_); }
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;

  bool connected() const { return connected_; }

  bool Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t sent = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (sent <= 0) return false;
      bytes.remove_prefix(static_cast<size_t>(sent));
    }
    return true;
  }

  // One response framed by Content-Length; nullopt on EOF, error or timeout.
  std::optional<ParsedResponse> ReadResponse() {
    size_t head_end;
    while ((head_end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!ReceiveSome()) return std::nullopt;
    }
    ParsedResponse response;
    response.head = buffer_.substr(0, head_end + 2);
    response.status = std::stoi(response.head.substr(9, 3));
    size_t length_at = response.head.find("Content-Length: ");
    if (length_at == std::string::npos) return std::nullopt;
    size_t length = std::stoul(response.head.substr(length_at + 16));
    while (buffer_.size() < head_end + 4 + length) {
      if (!ReceiveSome()) return std::nullopt;
    }
    response.body = buffer_.substr(head_end + 4, length);
    buffer_.erase(0, head_end + 4 + length);
    return response;
  }

  // True when the server closed the connection (EOF or reset) before the receive timeout, with
  // no further bytes.
  bool ClosedByPeer() {
    char byte;
    ssize_t received = ::recv(fd_, &byte, 1, 0);
    if (received == 0) return true;
    return received < 0 && errno == ECONNRESET;
  }

 private:
  bool ReceiveSome() {
    char chunk[4096];
    ssize_t received = ::recv(fd_, chunk, sizeof(chunk), 0);
    if (received <= 0) return false;
    buffer_.append(chunk, static_cast<size_t>(received));
    return true;
  }

  int fd_ = -1;
  bool connected_ = false;
  std::string buffer_;
};

std::string Get(std::string_view target, std::string_view extra_headers = "") {
  return "GET " + std::string(target) + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" +
         std::string(extra_headers) + "\r\n";
}

class AdminServerTest : public ::testing::Test {
 protected:
  void Start(AdminServerLimits limits = {}) {
    server_.emplace(io_, limits);
    server_->handle("GET", "/hello", [this](const HttpRequest& request) {
      std::lock_guard lock(mutex_);
      last_query_ = request.query;
      ++hello_calls_;
      return text_response(200, "hello");
    });
    server_->handle("POST", "/hello", [](const HttpRequest& request) {
      return text_response(200, "posted " + request.body);
    });
    server_->handle("GET", "/throws",
                    [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("boom"); });
    auto port = server_->listen("127.0.0.1", 0);
    ASSERT_TRUE(port.has_value()) << port.error();
    ASSERT_NE(*port, 0);
    port_ = *port;
    thread_ = std::thread([this] { io_.run(); });
  }

  // Runs `fn` on the io thread and waits for it.
  template <class Fn>
  auto OnIoThread(Fn fn) {
    using Result = decltype(fn());
    auto promise = std::make_shared<std::promise<Result>>();
    auto result = promise->get_future();
    asio::post(io_, [promise, fn = std::move(fn)]() mutable {
      if constexpr (std::is_void_v<Result>) {
        fn();
        promise->set_value();
      } else {
        promise->set_value(fn());
      }
    });
    return result.get();
  }

  void TearDown() override {
    if (!thread_.joinable()) return;
    OnIoThread([this] { server_->stop(); });
    work_.reset();
    thread_.join();  // returns only once stop() left no pending work behind
  }

  asio::io_context io_;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work_{
      asio::make_work_guard(io_)};
  std::optional<AdminServer> server_;
  std::thread thread_;
  uint16_t port_ = 0;
  std::mutex mutex_;
  std::string last_query_;
  int hello_calls_ = 0;
};

TEST_F(AdminServerTest, ServesARegisteredHandler) {
  Start();
  TestClient client(port_);
  ASSERT_TRUE(client.connected());
  ASSERT_TRUE(client.Send(Get("/hello?verbose=1")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(response->body, "hello\n");
  EXPECT_NE(response->head.find("Connection: keep-alive\r\n"), std::string::npos);
  std::lock_guard lock(mutex_);
  EXPECT_EQ(last_query_, "verbose=1");
}

TEST_F(AdminServerTest, PassesTheBody) {
  Start();
  TestClient client(port_);
  ASSERT_TRUE(client.Send("POST /hello HTTP/1.1\r\nHost: h\r\nContent-Length: 4\r\n\r\nabcd"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->body, "posted abcd\n");
}

TEST_F(AdminServerTest, UnknownPathIs404) {
  Start();
  TestClient client(port_);
  ASSERT_TRUE(client.Send(Get("/nope")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 404);
  EXPECT_NE(response->body.find("/hello"), std::string::npos);
  EXPECT_NE(response->body.find("/throws"), std::string::npos);
}

TEST_F(AdminServerTest, WrongMethodIs405WithAllow) {
  Start();
  TestClient client(port_);
  ASSERT_TRUE(client.Send("DELETE /hello HTTP/1.1\r\nHost: h\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 405);
  EXPECT_NE(response->head.find("\r\nAllow: GET, POST\r\n"), std::string::npos);
}

TEST_F(AdminServerTest, ThrowingHandlerIs500AndTheServerLives) {
  Start();
  TestClient client(port_);
  ASSERT_TRUE(client.Send(Get("/throws")));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 500);
  ASSERT_TRUE(client.Send(Get("/hello")));
  response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
}

TEST_F(AdminServerTest, KeepAliveServesTwoRequestsOnOneConnection) {
  Start();
  TestClient client(port_);
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(client.Send(Get("/hello")));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value()) << "request " << i;
    EXPECT_EQ(response->status, 200);
  }
  EXPECT_EQ(OnIoThread([this] { return server_->connection_count(); }), 1u);
  std::lock_guard lock(mutex_);
  EXPECT_EQ(hello_calls_, 2);
}

TEST_F(AdminServerTest, PipelinedRequestsAreAnsweredInOrder) {
  Start();
  TestClient client(port_);
  ASSERT_TRUE(client.Send(Get("/hello") + Get("/nope") +
                          "POST /hello HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n\r\nz" +
                          Get("/hello", "Connection: close\r\n")));
  int expected_status[] = {200, 404, 200, 200};
  for (int status : expected_status) {
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, status);
  }
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(AdminServerTest, MalformedRequestIs400AndClosed) {
  Start();
  TestClient client(port_);
  ASSERT_TRUE(client.Send("this is not http\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 400);
  EXPECT_NE(response->head.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(AdminServerTest, ErrorStatusesReachTheClient) {
  Start();
  struct Case {
    std::string request;
    int status;
  };
  const Case cases[] = {
      {"POST /hello HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n", 501},
      {"GET /hello HTTP/2.0\r\n\r\n", 505},
      {"POST /hello HTTP/1.1\r\nHost: h\r\nContent-Length: 2000000\r\n\r\n", 413},
      {"GET /hello HTTP/1.1\r\nHost: h\r\nX: " + std::string(9000, 'a') + "\r\n\r\n", 431},
  };
  for (const Case& c : cases) {
    TestClient client(port_);
    ASSERT_TRUE(client.Send(c.request));
    auto response = client.ReadResponse();
    ASSERT_TRUE(response.has_value()) << c.status;
    EXPECT_EQ(response->status, c.status);
    EXPECT_TRUE(client.ClosedByPeer()) << c.status;
  }
}

TEST_F(AdminServerTest, Http10WithoutKeepAliveIsClosed) {
  Start();
  TestClient client(port_);
  ASSERT_TRUE(client.Send("GET /hello HTTP/1.0\r\n\r\n"));
  auto response = client.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
  EXPECT_NE(response->head.find("Connection: close\r\n"), std::string::npos);
  EXPECT_TRUE(client.ClosedByPeer());
}

TEST_F(AdminServerTest, StopClosesConnectionsAndTheListener) {
  Start();
  TestClient client(port_);
  ASSERT_TRUE(client.Send(Get("/hello")));
  ASSERT_TRUE(client.ReadResponse().has_value());
  OnIoThread([this] { server_->stop(); });
  EXPECT_TRUE(client.ClosedByPeer());
  TestClient refused(port_);
  EXPECT_FALSE(refused.connected());
}

TEST_F(AdminServerTest, IdleConnectionIsClosed) {
  AdminServerLimits limits;
  limits.idle_timeout = milliseconds(200);
  Start(limits);
  TestClient client(port_);
  ASSERT_TRUE(client.connected());
  auto start = steady_clock::now();
  EXPECT_TRUE(client.ClosedByPeer());
  auto elapsed = steady_clock::now() - start;
  EXPECT_GE(elapsed, milliseconds(150));
  EXPECT_LT(elapsed, milliseconds(3000));
}

TEST_F(AdminServerTest, TricklingClientDoesNotExtendTheDeadline) {
  AdminServerLimits limits;
  limits.idle_timeout = milliseconds(300);
  Start(limits);
  TestClient client(port_);
  // ~3 s of trickling against a 300 ms budget: the server must hang up long before the end.
  std::string request = Get("/hello", "X-Padding: " + std::string(100, 'p') + "\r\n");
  auto start = steady_clock::now();
  bool sent_all = true;
  for (char c : request) {
    if (!client.Send(std::string_view(&c, 1))) {
      sent_all = false;
      break;
    }
    std::this_thread::sleep_for(milliseconds(20));
  }
  EXPECT_FALSE(sent_all);
  EXPECT_LT(steady_clock::now() - start, milliseconds(2000));
  std::lock_guard lock(mutex_);
  EXPECT_EQ(hello_calls_, 0);
}

TEST_F(AdminServerTest, ConnectionsOverTheCapGet503) {
  AdminServerLimits limits;
  limits.max_connections = 2;
  Start(limits);
  std::optional<TestClient> first(std::in_place, port_);
  TestClient second(port_);
  for (TestClient* client : {&*first, &second}) {
    ASSERT_TRUE(client->Send(Get("/hello")));
    ASSERT_TRUE(client->ReadResponse().has_value());
  }
  {
    TestClient third(port_);
    auto response = third.ReadResponse();
    ASSERT_TRUE(response.has_value());
    EXPECT_EQ(response->status, 503);
    EXPECT_TRUE(third.ClosedByPeer());
  }
  // Once a slot frees up, new clients are served again.
  first.reset();
  auto deadline = steady_clock::now() + milliseconds(3000);
  while (OnIoThread([this] { return server_->connection_count(); }) >= 2u) {
    ASSERT_LT(steady_clock::now(), deadline);
    std::this_thread::sleep_for(milliseconds(10));
  }
  TestClient fourth(port_);
  ASSERT_TRUE(fourth.Send(Get("/hello")));
  auto response = fourth.ReadResponse();
  ASSERT_TRUE(response.has_value());
  EXPECT_EQ(response->status, 200);
}

TEST(AdminServerListenTest, ReportsErrorsAsValues) {
  asio::io_context io;
  AdminServer server(io);
  auto bad = server.listen("not-an-address", 0);
  ASSERT_FALSE(bad.has_value());
  EXPECT_NE(bad.error().find("not-an-address"), std::string::npos);

  auto port = server.listen("localhost", 0);
  ASSERT_TRUE(port.has_value()) << port.error();
  EXPECT_FALSE(server.listen("127.0.0.1", 0).has_value());  // already listening

  // The port is taken by another listener without SO_REUSEPORT.
  AdminServer other(io);
  auto taken = other.listen("127.0.0.1", *port);
  ASSERT_FALSE(taken.has_value());
  EXPECT_NE(taken.error().find("bind"), std::string::npos);

  server.stop();
  auto again = server.listen("127.0.0.1", 0);
  EXPECT_TRUE(again.has_value());
}

}  // namespace
}  // namespace sluice::admin
