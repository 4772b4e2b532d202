#include <catch2/catch.hpp>

#include <imgcreate/support/cleanup.hpp>
#include <imgcreate/support/interrupt.hpp>
#include <imgcreate/support/process.hpp>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <csignal>
#include <thread>

using namespace imgcreate;

TEST_CASE("a command's stdout and stderr are captured together") {
    auto result = run({"sh", "-c", "echo out; echo err >&2"});
    CHECK(result.exit_status == 0);
    CHECK(result.output == "out\nerr\n");
}

TEST_CASE("a failing command throws with its argv, exit status and last lines of output") {
    try {
        run({"sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; exit 3"});
        FAIL("no exception");
    } catch (const CommandError& e) {
        CHECK(e.exit_status() == 3);
        CHECK(e.argv() == std::vector<std::string>{"sh", "-c", "for i in 1 2 3 4 5; do echo line$i; done; exit 3"});
        std::string what = e.what();
        CHECK(what.rfind("sh failed with exit status 3\n", 0) == 0);
        CHECK(what.find("command: sh -c 'for i in") != std::string::npos);
        CHECK(what.find("    line5") != std::string::npos);
    }
}

TEST_CASE("the last lines shown are limited by tail_lines") {
    Command cmd;
    cmd.argv = {"sh", "-c", "seq 1 100; exit 1"};
    cmd.tail_lines = 3;
    try {
        run(cmd);
        FAIL("no exception");
    } catch (const CommandError& e) {
        CHECK(e.output_tail() == "98\n99\n100");
    }
}

TEST_CASE("check=false returns a non-zero exit status instead of throwing") {
    Command cmd;
    cmd.argv = {"sh", "-c", "exit 7"};
    cmd.check = false;
    CHECK(run(cmd).exit_status == 7);
}

TEST_CASE("a missing program is a clear error, not a crash") {
    try {
        run({"imgcreate-no-such-program"});
        FAIL("no exception");
    } catch (const CommandError& e) {
        CHECK(std::string(e.what()).rfind("imgcreate-no-such-program was not found on this host", 0) == 0);
    }
    CHECK(find_program("imgcreate-no-such-program").empty());
    CHECK_THROWS_WITH(require_program("imgcreate-no-such-program", "some-package"),
                      "required program 'imgcreate-no-such-program' was not found on this host: install the "
                      "'some-package' package");
}

TEST_CASE("a command that outlives its timeout is stopped, with its children") {
    const std::string pidfile = "/tmp/imgcreate-timeout-test-" + std::to_string(::getpid());
    Command cmd;
    cmd.argv = {"sh", "-c", "sleep 30 & echo $! > " + pidfile + "; sleep 30; echo never"};
    cmd.timeout = std::chrono::milliseconds(300);
    auto start = std::chrono::steady_clock::now();
    try {
        run(cmd);
        FAIL("no exception");
    } catch (const CommandError& e) {
        CHECK(std::string(e.what()).rfind("sh did not finish within 0.3 s and was stopped", 0) == 0);
    }
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    // The background sleep was in the same process group and is gone too.
    std::ifstream in(pidfile);
    pid_t background = 0;
    in >> background;
    std::remove(pidfile.c_str());
    REQUIRE(background > 0);
    // Gone, or a zombie waiting for whoever reaps orphans here: either way no longer running.
    auto running = [background] {
        std::ifstream stat("/proc/" + std::to_string(background) + "/stat");
        std::string pid, comm, state;
        return stat >> pid >> comm >> state && state != "Z";
    };
    for (int i = 0; i < 20 && running(); ++i) ::usleep(50000);
    CHECK_FALSE(running());
}

TEST_CASE("an explicit environment replaces the caller's") {
    ::setenv("IMGCREATE_TEST_LEAK", "1", 1);
    Command cmd;
    cmd.argv = {"sh", "-c", "echo \"$PATH|$HOME|$LANG|${IMGCREATE_TEST_LEAK:-unset}\""};
    cmd.env = clean_environment();
    CHECK(run(cmd).output == "/usr/sbin:/usr/bin:/sbin:/bin|/root|C|unset\n");
}

TEST_CASE("standard input and the working directory are passed to the command") {
    Command cmd;
    cmd.argv = {"sh", "-c", "pwd; cat"};
    cmd.cwd = "/tmp";
    cmd.input = "from stdin\n";
    CHECK(run(cmd).output == "/tmp\nfrom stdin\n");
}

TEST_CASE("SIGINT during a command stops it and surfaces as InterruptedError") {
    InterruptGuard guard;
    std::thread killer([] {
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        ::kill(::getpid(), SIGINT);
    });
    auto start = std::chrono::steady_clock::now();
    CHECK_THROWS_AS(run({"sleep", "20"}), InterruptedError);
    killer.join();
    CHECK(std::chrono::steady_clock::now() - start < std::chrono::seconds(5));
    CHECK_THROWS_WITH(check_interrupted(), "interrupted by SIGINT");
    InterruptGuard::reset();
    CHECK_NOTHROW(check_interrupted());
}

TEST_CASE("cleanup actions run newest first, exactly once, and a failing one does not stop the rest") {
    std::vector<std::string> order;
    {
        CleanupStack stack;
        stack.push("first", [&] { order.push_back("first"); });
        stack.push("failing", [&] {
            order.push_back("failing");
            throw std::runtime_error("boom");
        });
        auto t = stack.push("third", [&] { order.push_back("third"); });
        stack.push("fourth", [&] { order.push_back("fourth"); });
        stack.release(t);
        CHECK(stack.pending() == std::vector<std::string>{"fourth", "failing", "first"});
        auto done = stack.run_all();
        CHECK(done == std::vector<std::string>{"fourth", "first"});
        CHECK(stack.empty());
        CHECK(stack.run_all().empty());
    }
    CHECK(order == std::vector<std::string>{"fourth", "failing", "first"});
}

TEST_CASE("a cleanup action run early on the normal path does not run again") {
    int count = 0;
    CleanupStack stack;
    auto t = stack.push("count", [&] { ++count; });
    stack.run(t);
    stack.run_all();
    CHECK(count == 1);
}
