// imgcreate — the rpm transaction: resolved packages installed into an install root with
// librpm, as dnf does for livecd-tools. The database is created inside the root, rpm orders
// the packages and runs every scriptlet chrooted, and each scriptlet's output goes to the log.
#pragma once

#include <imgcreate/install/package.hpp>
#include <imgcreate/install/parallel_verify.hpp>
#include <imgcreate/install/progress.hpp>
#include <imgcreate/install/rpm/fd.hpp>
#include <imgcreate/install/rpm/header.hpp>
#include <imgcreate/install/rpm/library.hpp>
#include <imgcreate/install/rpm/transaction_set.hpp>
#include <imgcreate/install/rpm_macros.hpp>
#include <imgcreate/install/rpmdb.hpp>
#include <imgcreate/install/signature.hpp>
#include <imgcreate/mount/user_namespace.hpp>
#include <imgcreate/support/error.hpp>
#include <imgcreate/support/log.hpp>
#include <imgcreate/support/root_path.hpp>
#include <imgcreate/support/unique_fd.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <sstream>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <rpm/rpmcallback.h>
#include <rpm/rpmfiles.h>
#include <rpm/rpmdb.h>
#include <rpm/rpmlib.h>
#include <rpm/rpmte.h>
#include <rpm/rpmts.h>

namespace imgcreate::install {

struct TransactionOptions {
    VerifyLevel verify = VerifyLevel::digest;
    MacroSettings macros;                          // --excludedocs, --instLangs, SELinux disabled
    std::filesystem::path dbpath = fedora_dbpath;  // inside the root; an existing database elsewhere wins
    RepoKeyFiles repo_keys;                        // repo id -> its gpgkey files, imported into the root
    std::set<std::string> repos_without_gpgcheck;  // their packages need no signature (dnf's gpgcheck=0)
    bool write_macros_file = true;                 // /etc/rpm/macros.imgcreate
    // Packages that are added beside an installed version instead of replacing it (dnf's installonlypkgs).
    std::set<std::string> install_only = {"kernel", "kernel-core", "kernel-modules", "kernel-modules-core",
                                          "kernel-modules-extra", "kernel-devel", "kernel-PAE"};
    // Called once the package that owns /proc has been unpacked, or before the run when none
    // does (BuildContext::mount_proc: a build in a user namespace mounts /proc then).
    std::function<void()> mount_proc;
    // A directory (as the scriptlets see it, inside the root) searched before rpm's own
    // %_install_script_path: commands there stand in for the image's during the transaction.
    std::string script_path_first;
};

namespace detail {

inline std::string scriptlet_name(rpm_loff_t tag) {
    switch (static_cast<rpmTagVal>(tag)) {
        case RPMTAG_PRETRANS: return "%pretrans";
        case RPMTAG_PREIN: return "%pre";
        case RPMTAG_POSTIN: return "%post";
        case RPMTAG_POSTTRANS: return "%posttrans";
        case RPMTAG_PREUN: return "%preun";
        case RPMTAG_POSTUN: return "%postun";
        case RPMTAG_TRIGGERPREIN: return "%triggerprein";
        case RPMTAG_TRIGGERIN: return "%triggerin";
        case RPMTAG_TRIGGERUN: return "%triggerun";
        case RPMTAG_TRIGGERPOSTUN: return "%triggerpostun";
        case RPMTAG_FILETRIGGERIN: return "%filetriggerin";
        case RPMTAG_TRANSFILETRIGGERIN: return "%transfiletriggerin";
        case RPMTAG_VERIFYSCRIPT: return "%verifyscript";
        default: return "scriptlet " + std::to_string(tag);
    }
}

inline std::string indented(const std::string& text, const std::string& prefix = "    ") {
    std::string out;
    std::size_t start = 0;
    while (start < text.size()) {
        auto end = text.find('\n', start);
        if (end == std::string::npos) end = text.size();
        out += prefix + text.substr(start, end - start) + "\n";
        start = end + 1;
    }
    if (!out.empty()) out.pop_back();
    return out;
}

// Scriptlet stdout/stderr land in an anonymous file; each scriptlet's share is read back
// when it stops.
class ScriptOutput {
public:
    ScriptOutput() : fd_(::memfd_create("imgcreate-scriptlets", MFD_CLOEXEC)) {
        if (!fd_) throw InstallError(errno_message("cannot create the scriptlet output file", {}, errno));
        rpm_fd_ = rpm::Fd::duplicate(fd_.get());
    }
    FD_t rpm_fd() const { return rpm_fd_.get(); }
    void start() {
        // Both calls only fail on a bad descriptor, which the constructor rules out.
        (void)::ftruncate(fd_.get(), 0);
        (void)::lseek(fd_.get(), 0, SEEK_SET);
    }
    std::string take() {
        Fflush(rpm_fd_.get());
        std::string out;
        char buf[8192];
        ssize_t n;
        off_t offset = 0;
        while ((n = ::pread(fd_.get(), buf, sizeof buf, offset)) > 0) {
            out.append(buf, static_cast<std::size_t>(n));
            offset += n;
        }
        while (!out.empty() && out.back() == '\n') out.pop_back();
        start();
        return out;
    }

private:
    UniqueFd fd_;
    rpm::Fd rpm_fd_;
};

struct Element {
    const Package* package = nullptr;
    std::string nevra;
};

struct Failure {
    std::string package;
    std::string what;
};

// rpm commits its database after every package: rpmdbAdd takes the database's write lock
// (a SQLite savepoint) and releases it, so every package writes its pages, most of them the
// same index pages again, to the write-ahead log. Holding that lock across the run, as rpm
// does itself while it builds missing indexes, makes the run one transaction: the index
// pages are written once. It is committed before every scriptlet (and trigger), so a
// scriptlet that starts rpm or reads the database sees every package installed before it,
// exactly as with rpm's own commits; after the run, the destructor commits the rest.
class DatabaseBatch {
public:
    explicit DatabaseBatch(rpmts ts) : db_(rpmtsGetRdb(ts)) { hold(); }
    ~DatabaseBatch() { release(); }
    DatabaseBatch(const DatabaseBatch&) = delete;
    DatabaseBatch& operator=(const DatabaseBatch&) = delete;

    void commit() {
        release();
        hold();
    }

private:
    void hold() { held_ = db_ && rpmdbCtrl(db_, RPMDB_CTRL_LOCK_RW) == 0; }
    void release() {
        if (!held_) return;  // nothing to commit: rpm then commits each package itself
        held_ = false;
        rpmdbCtrl(db_, RPMDB_CTRL_UNLOCK_RW);
    }

    rpmdb db_;
    bool held_ = false;
};

// Everything rpm's notify callback needs; the callback's user data.
struct CallbackState {
    ProgressFunction progress;
    rpm::LogCapture* log = nullptr;
    DatabaseBatch* database = nullptr;
    ScriptOutput script_output;
    rpm::Fd open_file;
    std::size_t total = 0;
    std::map<const void*, std::size_t> positions;  // element key -> 1-based position in progress
    std::vector<std::string> installed;
    std::vector<ScriptletWarning> warnings;
    std::vector<Failure> failures;
    std::string last_output;  // of the scriptlet that stopped last
    const void* proc_owner = nullptr;  // the element whose unpacking is followed by mount_proc
    std::function<void()> mount_proc;

    static std::string package_of(const void* header, const void* key) {
        if (key) return static_cast<const Element*>(key)->nevra;
        if (header) return rpm::Header::borrow(static_cast<::Header>(const_cast<void*>(header))).nevra();
        return "?";
    }

    void report(std::size_t index, const std::string& package, const std::string& phase) {
        if (progress) progress({index, total, package, phase});
    }

    // A package gets its position when rpm first touches it (%pretrans, %pre or unpacking).
    std::size_t position_of(const void* key) {
        if (!key) return positions.size();  // a trigger of a package already in the root
        return positions.try_emplace(key, positions.size() + 1).first->second;
    }

    void* notify(const void* header, rpmCallbackType what, rpm_loff_t amount, rpm_loff_t rc, const void* key) {
        switch (what) {
            case RPMCALLBACK_INST_OPEN_FILE: return open_package(key);
            case RPMCALLBACK_INST_CLOSE_FILE: open_file.reset(); break;
            case RPMCALLBACK_VERIFY_PROGRESS: report(amount + 1, package_of(header, key), "verifying"); break;
            case RPMCALLBACK_INST_START:
                installed.push_back(package_of(header, key));
                report(position_of(key), installed.back(), "installing");
                break;
            case RPMCALLBACK_INST_STOP:
                if (key && key == proc_owner && mount_proc) {
                    proc_owner = nullptr;
                    try {  // nothing may be thrown through rpm
                        mount_proc();
                    } catch (const std::exception& e) {
                        failures.push_back({package_of(header, key), std::string("/proc could not be mounted after it: ") + e.what()});
                    }
                }
                break;
            case RPMCALLBACK_SCRIPT_START:
                if (database) database->commit();
                script_output.start();
                if (log) log->take();  // so a failure quotes only what rpm said about this scriptlet
                report(position_of(key), package_of(header, key), scriptlet_name(amount));
                break;
            case RPMCALLBACK_SCRIPT_STOP: script_stopped(header, key, amount); break;
            case RPMCALLBACK_SCRIPT_ERROR: script_failed(header, key, amount, rc); break;
            case RPMCALLBACK_UNPACK_ERROR:
            case RPMCALLBACK_CPIO_ERROR: {
                std::string said = log_text_or("see the rpm messages in the log");
                said += unmapped_owner_note(header, said);
                failures.push_back({package_of(header, key), "its files could not be unpacked: " + said});
                break;
            }
            default: break;
        }
        return nullptr;
    }

    // In a user namespace, a chown rpm could not make is a file owned by an id the namespace does
    // not map: named, with its number, and what to do. rpm calls back chrooted in the root, so
    // /etc/passwd is the image's.
    static std::string unmapped_owner_note(const void* header, const std::string& said) {
        if (!header || said.find("chown failed") == std::string::npos || !mount::in_user_namespace()) return {};
        const auto at = said.find("on file ");
        if (at == std::string::npos) return {};
        const auto end = said.find(": cpio", at);
        std::string path = said.substr(at + 8, end == std::string::npos ? std::string::npos : end - at - 8);
        path = path.substr(0, path.find(';'));  // rpm unpacks to "<path>;<suffix>" first
        rpmfiles files = rpmfilesNew(nullptr, static_cast<::Header>(const_cast<void*>(header)), RPMTAG_BASENAMES, 0);
        if (!files) return {};
        const int index = rpmfilesFindFN(files, path.c_str());
        const std::string user = index >= 0 && rpmfilesFUser(files, index) ? rpmfilesFUser(files, index) : "";
        const std::string group = index >= 0 && rpmfilesFGroup(files, index) ? rpmfilesFGroup(files, index) : "";
        rpmfilesFree(files);
        auto id_of = [](const char* table, const std::string& name) -> std::optional<unsigned long> {
            std::ifstream in(table);
            for (std::string line; std::getline(in, line);) {
                std::istringstream fields(line);
                std::string n, x, id;
                if (std::getline(fields, n, ':') && n == name && std::getline(fields, x, ':') && std::getline(fields, id, ':'))
                    try {
                        return std::stoul(id);
                    } catch (const std::exception&) {
                    }
            }
            return std::nullopt;
        };
        const unsigned long limit = mount::mapped_uid_range().count;
        std::string who;
        if (auto uid = id_of("/etc/passwd", user); uid && *uid > limit)
            who = "user " + user + " (uid " + std::to_string(*uid) + ")";
        else if (auto gid = id_of("/etc/group", group); gid && *gid > limit)
            who = "group " + group + " (gid " + std::to_string(*gid) + ")";
        else
            return {};
        return "\n    " + path + " belongs to " + who + ", outside the ids 0-" + std::to_string(limit) +
               " this build's user namespace maps (the subordinate range in /etc/subuid and /etc/subgid): give the user a "
               "larger range (usermod --add-subuids/--add-subgids) or build as root";
    }

    void* open_package(const void* key) {
        const auto* element = static_cast<const Element*>(key);
        try {
            open_file = rpm::Fd::open_package(element->package->local_path);
        } catch (const Error& e) {
            failures.push_back({element->nevra, e.what()});
            return nullptr;
        }
        return open_file.get();
    }

    void script_stopped(const void* header, const void* key, rpm_loff_t tag) {
        last_output = script_output.take();
        if (last_output.empty()) return;
        const std::string prefix = package_of(header, key) + " " + scriptlet_name(tag) + ": ";
        std::size_t start = 0;
        while (start <= last_output.size()) {
            auto end = last_output.find('\n', start);
            if (end == std::string::npos) end = last_output.size();
            log::debug(prefix, last_output.substr(start, end - start));
            start = end + 1;
        }
    }

    void script_failed(const void* header, const void* key, rpm_loff_t tag, rpm_loff_t rc) {
        const std::string package = package_of(header, key);
        const std::string name = scriptlet_name(tag);
        const std::string message = log_text_or(name + " scriptlet failed");
        if (rc == RPMRC_OK) {
            log::warning(package, ": ", message, last_output.empty() ? "" : "\n" + indented(last_output));
            warnings.push_back({package, name, message, last_output});
            return;
        }
        std::string what = "its " + name + " scriptlet failed, so rpm did not install it\n    rpm: " + message;
        what += last_output.empty() ? "\n    (the scriptlet printed nothing)"
                                    : "\n    scriptlet output:\n" + indented(last_output, "      ");
        failures.push_back({package, what});
    }

    std::string log_text_or(const std::string& fallback) {
        std::string text = log ? log->take_text() : std::string();
        return text.empty() ? fallback : text;
    }
};

inline void* notify_trampoline(const void* header, const rpmCallbackType what, const rpm_loff_t amount,
                               const rpm_loff_t total, fnpyKey key, rpmCallbackData data) {
    return static_cast<CallbackState*>(data)->notify(header, what, amount, total, key);
}

// Whether the package's file list has `path`.
inline bool owns_path(::Header h, const char* path) {
    rpmfiles files = rpmfilesNew(nullptr, h, RPMTAG_BASENAMES, 0);
    if (!files) return false;
    const bool found = rpmfilesFindFN(files, path) >= 0;
    rpmfilesFree(files);
    return found;
}

inline std::string megabytes(std::uint64_t bytes) { return std::to_string((bytes + (1 << 20) - 1) >> 20) + " MB"; }

inline std::string repo_of(const rpm::Problem& p) {
    if (!p.key) return {};
    const auto* element = static_cast<const Element*>(p.key);
    return " (from repository '" + element->package->repo + "')";
}

inline std::string describe(const rpm::Problem& p) {
    switch (p.type) {
        case RPMPROB_FILE_CONFLICT:
        case RPMPROB_NEW_FILE_CONFLICT:
            return "file conflict: " + p.detail + " is in both " + p.package + " and " + p.other +
                   " with different contents; remove one of them from %packages";
        case RPMPROB_DISKSPACE:
            return "not enough disk space: installing " + p.package + " needs " + megabytes(p.disk_need) +
                   " more on the install root's " + p.detail + " filesystem; make it larger (part " + p.detail +
                   " --size= in the kickstart)";
        case RPMPROB_DISKNODES:
            return "not enough inodes: installing " + p.package + " needs " + std::to_string(p.disk_need) +
                   " more on the install root's " + p.detail + " filesystem";
        case RPMPROB_VERIFY: return "package " + p.package + repo_of(p) + " does not verify: " + p.detail;
        default: return p.text + repo_of(p);
    }
}

[[noreturn]] inline void throw_problems(const std::string& headline, const std::vector<rpm::Problem>& problems) {
    std::string message = headline + ": " + std::to_string(problems.size()) +
                          (problems.size() == 1 ? " problem" : " problems");
    std::set<std::string> seen;
    for (const auto& p : problems) {
        auto line = describe(p);
        if (seen.insert(line).second) message += "\n  - " + line;
    }
    throw InstallError(message);
}

// Reads each package's header, checks its signature, and skips what the root already has.
struct PreparedSet {
    std::vector<Element> elements;               // stable: rpm keeps pointers into it as keys
    std::vector<std::pair<rpm::Header, bool>> headers;  // header and "upgrade" per element
    std::vector<std::string> already_installed;
};

inline std::map<std::string, std::set<std::string>> installed_by_name(rpm::TransactionSet& ts) {
    std::map<std::string, std::set<std::string>> out;
    auto it = ts.all();
    while (auto h = it.next()) out[h->name()].insert(h->nevra());
    return out;
}

inline VerifyLevel level_for(const Package& package, const TransactionOptions& options) {
    return options.repos_without_gpgcheck.count(package.repo) ? without_signature(options.verify) : options.verify;
}

// What rpm itself enforces for the whole transaction: what every package's level asks for.
inline int transaction_verify_level(const std::vector<Package>& packages, const TransactionOptions& options) {
    int mask = rpm_verify_level(options.verify);
    for (const auto& p : packages) mask &= rpm_verify_level(level_for(p, options));
    return mask;
}

inline PreparedSet prepare(rpm::TransactionSet& ts, rpm::LogCapture& log, const std::vector<Package>& packages,
                           const TransactionOptions& options, const RepoKeys& keys) {
    PreparedSet set;
    set.elements.reserve(packages.size());
    auto installed = installed_by_name(ts);
    for (const auto& package : packages) {
        const VerifyLevel level = level_for(package, options);
        rpmtsSetVSFlags(ts.get(), rpm_read_flags(level));
        auto fd = rpm::Fd::open_package(package.local_path);
        ::Header raw = nullptr;
        log.take();
        rpmRC rc = rpmReadPackageFile(ts.get(), fd.get(), package.local_path.c_str(), &raw);
        rpm::Header header(raw);
        std::string rpm_message = log.take_text();
        if (rc == RPMRC_NOTFOUND || rc == RPMRC_FAIL || !header) {
            if (header) check_package_signature(package, header, rc, rpm_message, level, keys);
            throw InstallError(package.local_path.string() + " is not a readable rpm package" +
                                   (rpm_message.empty() ? "" : "\n  rpm: " + rpm_message) +
                                   "\n  the download may be damaged: remove it from the cache and retry",
                               package.nevra());
        }
        check_package_signature(package, header, rc, rpm_message, level, keys);
        const auto& same_name = installed[header.name()];
        if (same_name.count(header.nevra())) {
            set.already_installed.push_back(header.nevra());
            continue;
        }
        bool upgrade = !same_name.empty() && !options.install_only.count(header.name());
        set.elements.push_back({&package, header.nevra()});
        set.headers.emplace_back(std::move(header), upgrade);
    }
    return set;
}

inline std::vector<std::pair<std::string, std::string>> transaction_macros(const TransactionOptions& options,
                                                                           const std::filesystem::path& dbpath) {
    auto macros = image_macros(options.macros);
    macros.emplace_back("_dbpath", dbpath.string());
    if (!options.script_path_first.empty())
        macros.emplace_back("_install_script_path", options.script_path_first + ":/sbin:/bin:/usr/sbin:/usr/bin:/usr/X11R6/bin");
    return macros;
}

inline rpmtransFlags transaction_flags(const TransactionOptions& options) {
    rpmtransFlags flags = RPMTRANS_FLAG_NONE;
    if (options.macros.exclude_docs) flags |= RPMTRANS_FLAG_NODOCS;
    if (options.macros.selinux_disabled) flags |= RPMTRANS_FLAG_NOCONTEXTS;
    return flags;
}

// True when the verification checks every package's SHA-256 payload digest (in the header,
// itself covered by the header's SHA-256 digest): when it passes, the payload is byte for
// byte what the header says. Then the MD5 digest over the same bytes adds nothing (and
// costs more than the SHA-256 here), nor does rpm's second check of each file's digest
// as it unpacks.
inline bool payloads_checked(rpm::TransactionSet& ts, const PreparedSet& set) {
    if (rpmtsVfyFlags(ts.get()) & RPMVSF_NOPAYLOAD) return false;  // %_pkgverify_flags
    return std::all_of(set.headers.begin(), set.headers.end(), [](const auto& h) {
        return headerIsEntry(h.first.get(), RPMTAG_PAYLOADDIGEST) != 0 &&
               headerGetNumber(h.first.get(), RPMTAG_PAYLOADDIGESTALGO) == RPM_HASH_SHA256;
    });
}

// rpm's verification pass (what %_pkgverify_level asks for), run before rpmtsRun on every
// core (without the MD5 digest when SHA-256 payload digests cover the same bytes); see
// parallel_verify.hpp. When all passed, rpm's own pass is switched off (and the
// per-file digests too when the payload digests were checked); the returned flags go to
// the run. When one failed, rpm's pass stays on and reports it as before.
inline rpmtransFlags verify_before_run(rpm::TransactionSet& ts, rpm::LogCapture& log, const PreparedSet& set,
                                       CallbackState& state) {
    if (rpmtsVfyLevel(ts.get()) == 0) return RPMTRANS_FLAG_NONE;
    std::vector<std::filesystem::path> files;
    files.reserve(set.elements.size());
    for (const auto& e : set.elements) files.push_back(e.package->local_path);
    const bool payloads = payloads_checked(ts, set);
    const rpmVSFlags flags = rpmtsVfyFlags(ts.get());
    if (payloads) rpmtsSetVfyFlags(ts.get(), flags | RPMVSF_NOMD5);
    std::size_t verified = 0;
    log.take();
    auto outcome = verify_in_parallel(ts, files, [&](std::size_t i) {
        state.report(++verified, set.elements[i].nevra, "verifying");
    });
    log.take();  // the workers' lines; a failure is reported by rpm's own pass below
    rpmtsSetVfyFlags(ts.get(), flags);
    if (!outcome.all_passed) {
        log::debug(outcome.failed, " of ", files.size(), " packages did not verify; rpm checks them again to say why");
        return RPMTRANS_FLAG_NONE;
    }
    rpmtsSetVfyLevel(ts.get(), 0);
    return payloads ? RPMTRANS_FLAG_NOFILEDIGEST : RPMTRANS_FLAG_NONE;
}

inline void throw_failures(const std::filesystem::path& root, const std::vector<Failure>& failures) {
    std::string message = "the rpm transaction into " + root.string() + " failed for " +
                          std::to_string(failures.size()) + (failures.size() == 1 ? " package" : " packages");
    for (const auto& f : failures) message += "\n  " + f.package + ": " + f.what;
    throw InstallError(message, root.string());
}

}  // namespace detail

// Installs `packages` (their local_path files) into `root`, creating the rpm database
// there. Packages the root already has (same NEVRA) are skipped; scriptlets run chrooted,
// so shell scriptlets need /bin/sh and the API filesystems in the root. Throws
// InstallError naming the package on a signature, conflict, disk space, unpack or %pre failure.
inline TransactionResult install_packages(const std::filesystem::path& root_dir, const std::vector<Package>& packages,
                                          const TransactionOptions& options = {},
                                          const ProgressFunction& progress = default_progress) {
    const auto started = std::chrono::steady_clock::now();
    const auto root = std::filesystem::absolute(root_dir);
    const auto dbpath = detect_dbpath(root, options.dbpath);
    auto lock = rpm::library_lock();
    rpm::LogCapture log;
    remove_stale_locks(root, dbpath);

    TransactionResult result;
    {
        // Macros first: rpmtsCreate reads %_install_langs and rpm reads %_dbpath when opening.
        rpm::MacroScope macros(detail::transaction_macros(options, dbpath));
        rpm::TransactionSet ts(root);
        ts.open_database(O_RDWR | O_CREAT);
        rpmtsSetVfyLevel(ts.get(), detail::transaction_verify_level(packages, options));
        auto keys = import_repo_keys(ts, options.repo_keys);

        auto set = detail::prepare(ts, log, packages, options, keys);
        result.already_installed = std::move(set.already_installed);
        for (std::size_t i = 0; i < set.elements.size(); ++i)
            ts.add_install(set.headers[i].first, &set.elements[i], set.headers[i].second);

        if (!set.elements.empty()) {
            if (auto problems = ts.check(); !problems.empty())
                detail::throw_problems("the packages cannot be installed together into " + root.string(), problems);
            ts.order();

            detail::CallbackState state;
            state.progress = progress;
            state.log = &log;
            state.total = set.elements.size();
            if (options.mount_proc) {
                for (std::size_t i = 0; i < set.elements.size() && !state.proc_owner; ++i)
                    if (detail::owns_path(set.headers[i].first.get(), "/proc")) state.proc_owner = &set.elements[i];
                if (state.proc_owner)
                    state.mount_proc = options.mount_proc;
                else
                    options.mount_proc();
            }
            rpmtsSetNotifyCallback(ts.get(), &detail::notify_trampoline, &state);
            rpmtsSetScriptFd(ts.get(), state.script_output.rpm_fd());
            rpmtsSetFlags(ts.get(), detail::transaction_flags(options) | detail::verify_before_run(ts, log, set, state));

            log.take();
            int rc = 0;
            {
                detail::DatabaseBatch database(ts.get());
                state.database = &database;
                rc = ts.run();
                state.database = nullptr;
            }
            Logger::instance().clear_status();
            rpmtsSetScriptFd(ts.get(), nullptr);
            if (rc > 0 || (rc < 0 && state.failures.empty())) {
                auto problems = ts.problems();
                if (!problems.empty())
                    detail::throw_problems("rpm refused to install into " + root.string(), problems);
                const std::string said = log.take_text();
                throw InstallError("the rpm transaction into " + root.string() + " failed" +
                                       (said.empty() ? std::string(" (rpm gave no reason)")
                                                     : "\n" + detail::indented(said, "  rpm: ")),
                                   root.string());
            }
            if (!state.failures.empty()) detail::throw_failures(root, state.failures);
            result.installed = std::move(state.installed);
            result.warnings = std::move(state.warnings);
        }
    }
    checkpoint_database(root, dbpath);
    remove_stale_locks(root, dbpath);
    if (options.write_macros_file) write_macros_file(RootDir(root), options.macros);
    result.elapsed = std::chrono::steady_clock::now() - started;
    log::info("installed ", result.installed.size(), " packages into ", root.string(), " in ",
              log::duration(result.elapsed),
              result.already_installed.empty() ? std::string()
                                               : " (" + std::to_string(result.already_installed.size()) +
                                                     " already there)");
    return result;
}

}  // namespace imgcreate::install
