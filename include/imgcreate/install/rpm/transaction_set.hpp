// imgcreate — an rpm transaction set (rpmts) rooted at an install root.
#pragma once

#include <imgcreate/install/rpm/header.hpp>
#include <imgcreate/install/rpm/match_iterator.hpp>
#include <imgcreate/install/rpm/problem_set.hpp>
#include <imgcreate/support/error.hpp>

#include <fcntl.h>

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include <rpm/rpmdb.h>
#include <rpm/rpmts.h>

namespace imgcreate::install::rpm {

class TransactionSet {
public:
    explicit TransactionSet(const std::filesystem::path& root) : ts_(rpmtsCreate()) {
        if (!ts_) throw InstallError("cannot create an rpm transaction set");
        if (rpmtsSetRootDir(ts_, root.c_str()) != 0)
            throw InstallError("rpm refused the install root " + root.string() + ": it must be an absolute path",
                               root.string());
    }
    TransactionSet(TransactionSet&& other) noexcept : ts_(std::exchange(other.ts_, nullptr)) {}
    TransactionSet& operator=(TransactionSet&&) = delete;
    TransactionSet(const TransactionSet&) = delete;
    ~TransactionSet() {
        if (ts_) {
            rpmtsCloseDB(ts_);
            rpmtsFree(ts_);
        }
    }

    rpmts get() const noexcept { return ts_; }

    // O_RDONLY to query; O_RDWR | O_CREAT to install (creates the database when absent).
    void open_database(int mode) {
        if (rpmtsOpenDB(ts_, mode) != 0)
            throw InstallError("cannot open the rpm database under " + std::string(rpmtsRootDir(ts_)) +
                               ": see the rpm messages above (a newer rpmdb format, or a damaged one?)");
    }
    void close_database() { rpmtsCloseDB(ts_); }

    MatchIterator find(rpmDbiTagVal tag, const std::string& value = {}) const {
        return MatchIterator(rpmtsInitIterator(ts_, tag, value.empty() ? nullptr : value.c_str(), 0));
    }
    MatchIterator all() const { return MatchIterator(rpmtsInitIterator(ts_, RPMDBI_PACKAGES, nullptr, 0)); }

    void add_install(const Header& h, const void* key, bool upgrade) {
        int rc = rpmtsAddInstallElement(ts_, h.get(), key, upgrade ? 1 : 0, nullptr);
        if (rc != 0)
            throw InstallError("rpm refused to add " + h.nevra() + " to the transaction" +
                               (rc == 1 ? ": its header is damaged" : ": it is not installable here"));
    }

    std::vector<Problem> check() {
        rpmtsCheck(ts_);
        return take_problems(rpmtsProblems(ts_));
    }
    void order() {
        if (rpmtsOrder(ts_) != 0)
            throw InstallError("rpm could not order the transaction (dependency loops it cannot break)");
    }
    // <0: rpm failed before or while running; 0: success; >0: problems (see problems()).
    int run(rpmprobFilterFlags ignore = RPMPROB_FILTER_NONE) { return rpmtsRun(ts_, nullptr, ignore); }
    std::vector<Problem> problems() const { return take_problems(rpmtsProblems(ts_)); }

private:
    rpmts ts_ = nullptr;
};

}  // namespace imgcreate::install::rpm
