// A server a test starts on 127.0.0.1 at a free port and stops when it goes out of scope.
#pragma once

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <string>
#include <thread>
#include <vector>

namespace imgcreate::test {

inline int free_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ::close(fd);
    return ntohs(a.sin_port);
}

inline bool port_accepting(int port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    ::close(fd);
    return ok;
}

// Runs `argv` (every "{port}" replaced by the chosen port) with its output discarded, and
// returns once the port accepts connections (or after 10 s).
class LocalServer {
public:
    explicit LocalServer(std::vector<std::string> argv) : port_(free_port()) {
        for (auto& a : argv)
            for (auto at = a.find("{port}"); at != std::string::npos; at = a.find("{port}"))
                a.replace(at, 6, std::to_string(port_));
        pid_ = ::fork();
        if (pid_ == 0) {
            ::setpgid(0, 0);
            int devnull = ::open("/dev/null", O_RDWR);
            ::dup2(devnull, 1);
            ::dup2(devnull, 2);
            std::vector<char*> args;
            for (auto& a : argv) args.push_back(a.data());
            args.push_back(nullptr);
            ::execv(args[0], args.data());
            ::_exit(127);
        }
        for (int i = 0; i < 200 && !port_accepting(port_); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ~LocalServer() { stop(); }
    LocalServer(const LocalServer&) = delete;
    LocalServer& operator=(const LocalServer&) = delete;

    void stop() {
        if (pid_ <= 0) return;
        ::kill(pid_, SIGTERM);
        ::waitpid(pid_, nullptr, 0);
        pid_ = -1;
    }
    int port() const { return port_; }
    pid_t pid() const { return pid_; }
    std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }

private:
    int port_;
    pid_t pid_ = -1;
};

// `python3 -m http.server` serving `dir`.
class HttpServer : public LocalServer {
public:
    explicit HttpServer(const std::string& dir)
        : LocalServer({"/usr/bin/python3", "-m", "http.server", "{port}", "--bind", "127.0.0.1", "--directory", dir}) {}
};

}  // namespace imgcreate::test
