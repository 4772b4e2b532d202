// imgcreate — rpm's package verification pass, spread over the cores.
//
// Before it installs anything, rpmtsRun reads every package whole, one after another, and
// checks its digests and signatures (%_pkgverify_level). That pass is the same call for
// every package and depends on nothing but the file, the transaction's verification level
// and flags and its keyring — the check rpmVerifySignatures makes. Run here on worker
// threads, it gives the same answer sooner. The transaction then skips rpm's own pass
// when every package passed; when one did not, rpm's pass runs as before and reports it
// in its own words.
#pragma once

#include <imgcreate/install/rpm/library.hpp>
#include <imgcreate/install/rpm/transaction_set.hpp>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <filesystem>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <rpm/rpmcli.h>
#include <rpm/rpmio.h>
#include <rpm/rpmkeyring.h>
#include <rpm/rpmts.h>

namespace imgcreate::install {

struct ParallelVerifyResult {
    bool all_passed = true;
    std::size_t failed = 0;
};

// Verifies `files` as rpmtsRun would with `ts`'s level, flags and keyring, on up to
// `threads` threads (0: one per core). `done(index)` is called on the calling thread, once
// per file, as each finishes (for progress). Messages rpm logs on the worker threads are
// dropped by the caller (rpm serializes its log callback, so the capture stays intact).
inline ParallelVerifyResult verify_in_parallel(rpm::TransactionSet& ts, const std::vector<std::filesystem::path>& files,
                                               const std::function<void(std::size_t)>& done = {},
                                               unsigned threads = 0) {
    ParallelVerifyResult result;
    if (files.empty()) return result;
    // The keyring is loaded once here: rpmVerifySignatures then only links it (under its lock).
    rpmKeyringFree(rpmtsGetKeyring(ts.get(), 1));

    if (threads == 0) threads = std::max(1u, std::thread::hardware_concurrency());
    threads = static_cast<unsigned>(std::min<std::size_t>(threads, files.size()));

    std::atomic<std::size_t> next{0};
    std::atomic<bool> stop{false};
    std::mutex mutex;
    std::condition_variable finished;
    std::deque<std::size_t> completed;
    std::size_t failed = 0;

    auto work = [&] {
        struct rpmQVKArguments_s qva {};
        for (std::size_t i; !stop.load(std::memory_order_relaxed) && (i = next.fetch_add(1)) < files.size();) {
            bool ok = false;
            if (FD_t fd = Fopen(files[i].c_str(), "r.ufdio"); fd != nullptr) {
                if (!Ferror(fd)) ok = rpmVerifySignatures(&qva, ts.get(), fd, files[i].c_str()) == 0;
                Fclose(fd);
            }
            {
                std::lock_guard lock(mutex);
                completed.push_back(i);
                if (!ok) ++failed;
            }
            finished.notify_one();
        }
    };

    std::vector<std::jthread> workers;
    workers.reserve(threads);
    try {
        for (unsigned t = 0; t < threads; ++t) workers.emplace_back(work);
        for (std::size_t reported = 0; reported < files.size();) {
            std::deque<std::size_t> batch;
            {
                std::unique_lock lock(mutex);
                finished.wait(lock, [&] { return !completed.empty(); });
                batch.swap(completed);
            }
            for (auto i : batch) {
                ++reported;
                if (done) done(i);
            }
        }
    } catch (...) {
        stop = true;
        throw;  // the jthreads join as they go out of scope
    }
    workers.clear();
    result.failed = failed;
    result.all_passed = failed == 0;
    return result;
}

}  // namespace imgcreate::install
