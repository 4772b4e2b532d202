// A guest driven through its serial console, as a person at a terminal would: qemu's serial
// port is a Unix socket the test reads and types into (and a log file keeps everything).
// Commands run in the guest's shell between two markers, so their output and exit status
// can be told apart from the echo, the prompt and kernel messages.
#pragma once

#include "qemu.hpp"

#include <boost/process.hpp>

#include <chrono>
#include <filesystem>
#include <optional>
#include <regex>
#include <string>
#include <thread>

#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace imgcreate::test {

class SerialGuest {
public:
    struct Reply {
        std::string output;  // what the command printed, kernel messages left out
        int status = -1;     // its exit status; -1 when it did not finish in time
    };

    // Starts `guest` with `memory_mib` of RAM; its console goes to a socket under `work`
    // and is logged to guest.serial_log.
    SerialGuest(const Guest& guest, const std::filesystem::path& work, int memory_mib = 1536)
        : socket_(work / "console.sock") {
        std::filesystem::create_directories(work);
        std::filesystem::remove(socket_);
        std::filesystem::remove(guest.serial_log);
        auto argv = qemu_argv(guest);
        for (std::size_t i = 0; i + 1 < argv.size(); ++i) {
            if (argv[i] == "-m") argv[i + 1] = std::to_string(memory_mib);
            if (argv[i] == "-serial") argv[i + 1] = "chardev:console";
        }
        argv.insert(argv.end(), {"-chardev", "socket,id=console,path=" + socket_.string() +
                                                 ",server=on,wait=on,logfile=" + guest.serial_log.string()});
        qemu_ = boost::process::child(boost::process::search_path(argv.front()),
                                      std::vector<std::string>(argv.begin() + 1, argv.end()),
                                      boost::process::std_out > boost::process::null,
                                      boost::process::std_err > (work / "qemu.stderr").string());
        connect();
    }

    SerialGuest(const SerialGuest&) = delete;
    SerialGuest& operator=(const SerialGuest&) = delete;

    ~SerialGuest() {
        if (fd_ >= 0) ::close(fd_);
        if (qemu_.valid() && qemu_.running()) {
            ::kill(qemu_.id(), SIGKILL);
            qemu_.wait();
        }
        std::error_code ec;
        std::filesystem::remove(socket_, ec);
    }

    // Reads until `text` appears after what earlier waits consumed; true when it did.
    bool wait_for(const std::string& text, std::chrono::seconds timeout) {
        const auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            auto clean = strip_terminal_codes(raw_.substr(consumed_));
            if (auto at = clean.find(text); at != std::string::npos) {
                consumed_ = raw_.size();  // what follows the match is read afresh
                return true;
            }
            if (std::chrono::steady_clock::now() >= deadline || !read_some(std::chrono::milliseconds(500))) return false;
        }
    }

    void type(const std::string& text) {
        for (char c : text) {  // one at a time, as a person types: a getty drops a burst
            if (::write(fd_, &c, 1) != 1) return;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }

    // Logs in on the console's getty prompt; true when a shell prompt followed.
    bool log_in(const std::string& user, const std::string& password, std::chrono::seconds boot_timeout) {
        if (!wait_for("login: ", boot_timeout)) return false;
        type(user + "\n");
        if (!wait_for("Password: ", std::chrono::seconds(60))) return false;
        type(password + "\n");
        if (!wait_for("$ ", std::chrono::seconds(120))) return false;
        // No echo of what is typed, no pager, a prompt that cannot be mistaken for output.
        // (bash's line editing echoes by itself: it is turned off too.)
        type("set +o emacs +o vi 2>/dev/null; stty -echo; PS1='guest> '; "
             "export SYSTEMD_PAGER=cat PAGER=cat SYSTEMD_COLORS=0 TERM=dumb\n");
        return wait_for("guest> ", std::chrono::seconds(60));
    }

    // Runs `command` in the logged-in shell.
    Reply run(const std::string& command, std::chrono::seconds timeout = std::chrono::seconds(180)) {
        ++serial_;
        const std::string begin = "@@begin-" + std::to_string(serial_) + "@@";
        const std::string end = "@@end-" + std::to_string(serial_) + ":";
        // The markers are split in the typed text, so that only what `printf` prints matches,
        // never an echo of the line.
        type("printf '\\n%s\\n' '@@begin-" + std::to_string(serial_) + "''@@'; " + command +
             "; printf '\\n%s%s@@\\n' '@@end-" + std::to_string(serial_) + "'':' \"$?\"\n");
        Reply reply;
        const auto start = raw_.size();
        if (!wait_for(end, timeout) || !read_line_after(end)) return reply;
        auto clean = strip_terminal_codes(raw_.substr(start));
        auto from = clean.find(begin + "\n");
        auto to = clean.find(end);
        if (from == std::string::npos || to == std::string::npos || to < from) return reply;
        reply.output = without_kernel_messages(clean.substr(from + begin.size() + 1, to - from - begin.size() - 1));
        while (!reply.output.empty() && reply.output.back() == '\n') reply.output.pop_back();
        reply.status = std::atoi(clean.c_str() + to + end.size());
        return reply;
    }

    std::string transcript() const { return strip_terminal_codes(raw_); }
    bool running() { return qemu_.running(); }

private:
    void connect() {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
        while (std::chrono::steady_clock::now() < deadline && qemu_.running()) {
            int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            sockaddr_un address{};
            address.sun_family = AF_UNIX;
            std::snprintf(address.sun_path, sizeof address.sun_path, "%s", socket_.c_str());
            if (::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0) {
                fd_ = fd;
                return;
            }
            ::close(fd);
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }

    bool read_some(std::chrono::milliseconds wait) {
        if (fd_ < 0) return false;
        pollfd p{fd_, POLLIN, 0};
        int ready = ::poll(&p, 1, static_cast<int>(wait.count()));
        if (ready <= 0) return ready == 0;
        char buffer[4096];
        auto n = ::read(fd_, buffer, sizeof buffer);
        if (n <= 0) return false;  // qemu is gone
        raw_.append(buffer, static_cast<std::size_t>(n));
        return true;
    }

    bool read_line_after(const std::string& marker) {
        for (int i = 0; i < 20; ++i) {
            auto clean = strip_terminal_codes(raw_);
            auto at = clean.rfind(marker);
            if (at != std::string::npos && clean.find("@@\n", at) != std::string::npos) return true;
            if (!read_some(std::chrono::milliseconds(500))) return false;
        }
        return false;
    }

    static std::string without_kernel_messages(const std::string& text) {
        static const std::regex printk(R"(\[ *[0-9]+\.[0-9]+\] [^\n]*\n?)");
        return std::regex_replace(text, printk, "");
    }

    std::filesystem::path socket_;
    boost::process::child qemu_;
    int fd_ = -1;
    std::string raw_;
    std::size_t consumed_ = 0;
    int serial_ = 0;
};

}  // namespace imgcreate::test
