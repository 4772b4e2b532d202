// imgcreate — the rpm database inside an install root: where it lives, what it holds,
// and leaving it clean (no stale locks, no sqlite WAL) so images are reproducible.
#pragma once

#include <imgcreate/install/dbpath.hpp>
#include <imgcreate/install/rpm/library.hpp>
#include <imgcreate/install/rpm/transaction_set.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>

#include <dlfcn.h>
#include <fcntl.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <system_error>
#include <tuple>
#include <vector>

namespace imgcreate::install {

namespace detail {
inline std::filesystem::path in_root(const std::filesystem::path& root, const std::filesystem::path& inside) {
    return root / inside.relative_path();
}
inline bool has_database(const std::filesystem::path& dir) {
    std::error_code ec;
    return std::filesystem::exists(dir / "rpmdb.sqlite", ec) || std::filesystem::exists(dir / "Packages", ec) ||
           std::filesystem::exists(dir / "Packages.db", ec);
}
}  // namespace detail

// The database path to use in `root`: an existing database wins (a root built on another
// image), else `preferred`.
inline std::filesystem::path detect_dbpath(const std::filesystem::path& root,
                                           const std::filesystem::path& preferred = fedora_dbpath) {
    for (const auto& candidate : {preferred, fedora_dbpath, legacy_dbpath})
        if (detail::has_database(detail::in_root(root, candidate))) return candidate;
    return preferred;
}

struct InstalledPackage {
    std::string name;
    std::string epoch;  // empty when none
    std::string version;
    std::string release;
    std::string arch;   // empty for gpg-pubkey

    std::string evr() const {
        return (epoch.empty() || epoch == "0" ? std::string() : epoch + ":") + version + "-" + release;
    }
    // As `rpm -qa` prints it (rpm's %{NEVRA} default query format omits the epoch).
    std::string nevra() const { return name + "-" + evr() + (arch.empty() ? "" : "." + arch); }
    friend auto operator<=>(const InstalledPackage&, const InstalledPackage&) = default;
};

namespace detail {
inline InstalledPackage installed_from(const rpm::Header& h) {
    return {h.name(), h.has(RPMTAG_EPOCH) ? std::to_string(h.number(RPMTAG_EPOCH)) : std::string(),
            h.string(RPMTAG_VERSION), h.string(RPMTAG_RELEASE), h.arch()};
}
}  // namespace detail

// Every package in the root's database, sorted by name (gpg-pubkey entries included, as rpm -qa).
// An absent database is an empty list.
inline std::vector<InstalledPackage> installed_packages(const std::filesystem::path& root,
                                                        const std::filesystem::path& dbpath = fedora_dbpath) {
    if (!detail::has_database(detail::in_root(root, dbpath))) return {};
    auto lock = rpm::library_lock();
    rpm::LogCapture log;
    rpm::MacroScope macros({{"_dbpath", dbpath.string()}});
    rpm::TransactionSet ts(std::filesystem::absolute(root));
    ts.open_database(O_RDONLY);
    std::vector<InstalledPackage> out;
    auto it = ts.all();
    while (auto h = it.next()) out.push_back(detail::installed_from(*h));
    std::sort(out.begin(), out.end());
    return out;
}

// Of `paths` (absolute inside the root, or relative to it), those no installed package owns, in
// their order. An absent database owns nothing.
inline std::vector<std::filesystem::path> unowned_paths(const std::filesystem::path& root,
                                                        const std::vector<std::filesystem::path>& paths,
                                                        const std::filesystem::path& dbpath = fedora_dbpath) {
    if (paths.empty() || !detail::has_database(detail::in_root(root, dbpath))) return paths;
    auto lock = rpm::library_lock();
    rpm::LogCapture log;
    rpm::MacroScope macros({{"_dbpath", dbpath.string()}});
    rpm::TransactionSet ts(std::filesystem::absolute(root));
    ts.open_database(O_RDONLY);
    std::vector<std::filesystem::path> out;
    for (const auto& p : paths) {
        auto it = ts.find(RPMDBI_INSTFILENAMES, ("/" / p.relative_path()).string());
        if (!it.next()) out.push_back(p);
    }
    return out;
}

// Removes lock and environment files a killed rpm may have left: Berkeley DB's __db.00N
// (which livecd-tools also deletes) and rpm's own lock files. Nothing holds them between
// transactions: rpm takes its locks for the length of one.
inline void remove_stale_locks(const std::filesystem::path& root, const std::filesystem::path& dbpath = fedora_dbpath) {
    const auto dir = detail::in_root(root, dbpath);
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return;
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
        const std::string name = entry.path().filename().string();
        if (name.rfind("__db.", 0) == 0 || name == ".rpm.lock" || name == ".dbenv.lock") {
            std::filesystem::remove(entry.path(), ec);
            if (ec) throw InstallError(errno_message("cannot remove stale rpm lock", entry.path(), ec.value()));
            log::debug("removed stale rpm database file ", entry.path().string());
        }
    }
}

namespace detail {
// librpm's own libsqlite3, reached through dlopen so that imgcreate links nothing more:
// rpm's API cannot change a database's journal mode.
class Sqlite {
public:
    Sqlite() {
        lib_ = ::dlopen("libsqlite3.so.0", RTLD_NOW | RTLD_LOCAL);
        if (!lib_) throw InstallError(std::string("cannot load libsqlite3 (librpm's database library): ") + ::dlerror());
        open_ = reinterpret_cast<decltype(open_)>(::dlsym(lib_, "sqlite3_open_v2"));
        exec_ = reinterpret_cast<decltype(exec_)>(::dlsym(lib_, "sqlite3_exec"));
        close_ = reinterpret_cast<decltype(close_)>(::dlsym(lib_, "sqlite3_close"));
        errmsg_ = reinterpret_cast<decltype(errmsg_)>(::dlsym(lib_, "sqlite3_errmsg"));
        if (!open_ || !exec_ || !close_ || !errmsg_) throw InstallError("libsqlite3 lacks the functions rpm uses");
    }
    Sqlite(const Sqlite&) = delete;
    Sqlite& operator=(const Sqlite&) = delete;
    ~Sqlite() { ::dlclose(lib_); }

    // Runs `sql` on the database file; returns sqlite's error text, empty on success.
    std::string execute(const std::filesystem::path& db, const char* sql) const {
        constexpr int open_readwrite = 0x2;
        void* handle = nullptr;
        std::string error;
        if (open_(db.c_str(), &handle, open_readwrite, nullptr) != 0 ||
            exec_(handle, sql, nullptr, nullptr, nullptr) != 0)
            error = handle ? errmsg_(handle) : "cannot open";
        close_(handle);
        return error;
    }

private:
    void* lib_ = nullptr;
    int (*open_)(const char*, void**, int, const char*) = nullptr;
    int (*exec_)(void*, const char*, void*, void*, char**) = nullptr;
    int (*close_)(void*) = nullptr;
    const char* (*errmsg_)(void*) = nullptr;
};
}  // namespace detail

// Folds the sqlite write-ahead log into rpmdb.sqlite and leaves the database in rollback
// journal mode, so no -wal/-shm files stay behind (readers of a WAL database recreate
// them) and two builds of the same packages give the same files. rpm switches the
// database back to WAL the next time it writes to it.
inline void checkpoint_database(const std::filesystem::path& root, const std::filesystem::path& dbpath = fedora_dbpath) {
    const auto db = detail::in_root(root, dbpath) / "rpmdb.sqlite";
    std::error_code ec;
    if (!std::filesystem::exists(db, ec)) return;
    auto lock = rpm::library_lock();
    auto error = detail::Sqlite().execute(db, "PRAGMA wal_checkpoint(TRUNCATE); PRAGMA journal_mode = DELETE;");
    if (!error.empty())
        throw InstallError("cannot checkpoint the rpm database " + db.string() + ": " + error +
                               "\n  is another rpm process using this root?", db.string());
    for (const char* leftover : {"rpmdb.sqlite-wal", "rpmdb.sqlite-shm"})
        std::filesystem::remove(db.parent_path() / leftover, ec);
}

}  // namespace imgcreate::install
