// imgcreate — independent jobs run side by side, one per processor: a relabel's setfiles runs,
// a disk's filesystems. Each job starts its own programs (support/process.hpp), which an
// interruption stops as it stops any.
#pragma once

#include <imgcreate/support/error.hpp>

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <thread>
#include <vector>

namespace imgcreate {

// Runs `jobs` on up to `workers` threads (0: one per processor), the first ones first, and
// returns when all that started have ended; once one fails no other starts. Then rethrows an
// interruption if there was one, else the failure of the earliest job.
inline void run_side_by_side(const std::vector<std::function<void()>>& jobs, unsigned workers = 0) {
    if (workers == 0) workers = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::exception_ptr> failures(jobs.size());
    std::atomic<std::size_t> next{0};
    std::atomic<bool> failed{false};
    {
        auto work = [&] {
            for (std::size_t i; !failed.load() && (i = next.fetch_add(1)) < jobs.size();) {
                try {
                    jobs[i]();
                } catch (...) {
                    failures[i] = std::current_exception();
                    failed = true;
                }
            }
        };
        std::vector<std::jthread> threads;
        for (unsigned t = 1; t < std::min<std::size_t>(workers, jobs.size()); ++t) threads.emplace_back(work);
        work();
    }
    for (const auto& failure : failures) {
        if (!failure) continue;
        try {
            std::rethrow_exception(failure);
        } catch (const InterruptedError&) {
            throw;
        } catch (...) {
        }
    }
    for (const auto& failure : failures)
        if (failure) std::rethrow_exception(failure);
}

}  // namespace imgcreate
