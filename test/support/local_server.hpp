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

// An HTTP proxy: answers absolute-URI requests ("GET http://any-host/path HTTP/1.1") with the
// file `dir`/path, appending each requested URI to `log`; other requests get 400.
class ProxyServer : public LocalServer {
public:
    ProxyServer(const std::string& dir, const std::string& log)
        : LocalServer({"/usr/bin/python3", "-c", script(), "{port}", dir, log}) {}

private:
    static std::string script() {
        return "import http.server, sys, urllib.parse\n"
               "root, log = sys.argv[2], sys.argv[3]\n"
               "class H(http.server.SimpleHTTPRequestHandler):\n"
               "    def __init__(s, *a, **k): super().__init__(*a, directory=root, **k)\n"
               "    def do_GET(s):\n"
               "        u = urllib.parse.urlsplit(s.path)\n"
               "        if not u.scheme or not u.netloc:\n"
               "            s.send_error(400, 'not a proxy request'); return\n"
               "        with open(log, 'a') as f: f.write(s.path + '\\n')\n"
               "        s.path = u.path\n"
               "        super().do_GET()\n"
               "    def log_message(s, *a): pass\n"
               "http.server.ThreadingHTTPServer(('127.0.0.1', int(sys.argv[1])), H).serve_forever()\n";
    }
};

// `openssl s_server -WWW` serving `dir` over TLS with the given certificate and key
// (one connection at a time, HTTP/1.0).
// With `client_ca`, every client must present a certificate that CA signed.
class TlsServer : public LocalServer {
public:
    TlsServer(const std::string& dir, const std::string& cert, const std::string& key, const std::string& client_ca = {})
        : LocalServer({"/bin/sh", "-c",
                       "cd '" + dir + "' && exec openssl s_server -quiet -WWW -accept 127.0.0.1:{port} -cert '" + cert +
                           "' -key '" + key + "'" +
                           (client_ca.empty() ? std::string() : " -Verify 1 -CAfile '" + client_ca + "'")}) {}
    std::string url() const { return "https://127.0.0.1:" + std::to_string(port()); }
};

}  // namespace imgcreate::test
