// Kickstart lines: word splitting, option parsing, every command's valid and invalid forms
// (test/data/kickstart/commands.cases holds each input with the canonical text or the error
// pykickstart gives for it), the sections, and the typed model.
#include <catch2/catch.hpp>

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include <imgcreate/kickstart/validate.hpp>
#include <imgcreate/kickstart/writer.hpp>

namespace ks = imgcreate::kickstart;

namespace {

struct Case {
    std::string input;
    bool is_error = false;
    std::size_t error_line = 0;
    std::string expected;               // canonical text or error message
    std::vector<std::string> warnings;  // "line: message"
    std::size_t file_line = 0;          // where the case starts in the .cases file
};

std::vector<Case> load_cases(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in.good());
    std::vector<Case> cases;
    std::string line;
    enum { none, input, output, warnings, error } part = none;
    std::size_t n = 0;
    bool final_newline = true;
    auto finish = [&] {
        if (cases.empty()) return;
        Case& c = cases.back();
        if (!c.input.empty()) c.input.pop_back();  // the newline the file format adds
        if (c.is_error && !c.expected.empty()) c.expected.pop_back();
        if (!c.is_error && !final_newline && !c.expected.empty()) c.expected.pop_back();
        final_newline = true;
    };
    while (std::getline(in, line)) {
        ++n;
        if (line == "=== case") {
            finish();
            cases.emplace_back();
            cases.back().file_line = n;
            part = input;
        } else if (line == "--- output") {
            part = output;
        } else if (line == "--- warnings") {
            part = warnings;
        } else if (line == "--- no final newline") {
            final_newline = false;
        } else if (line.rfind("--- error ", 0) == 0) {
            part = error;
            cases.back().is_error = true;
            cases.back().error_line = std::stoul(line.substr(10));
        } else if (part == input) {
            cases.back().input += line + "\n";
        } else if (part == output || part == error) {
            cases.back().expected += line + "\n";
        } else if (part == warnings) {
            cases.back().warnings.push_back(line);
        }
    }
    finish();
    return cases;
}

std::string error_of(const std::string& text) {
    try {
        ks::parse_string(text, "t.ks");
    } catch (const imgcreate::KickstartError& e) {
        return e.what();
    }
    return "(no error)";
}

std::string command_text(const std::string& text) {
    auto k = ks::parse_string(text, "t.ks");
    return ks::to_string(k);
}

}  // namespace

TEST_CASE("Every command line in the case table parses to pykickstart's canonical text or fails with its error",
          "[kickstart]") {
    const auto cases = load_cases(std::string(IMGCREATE_SOURCE_DIR) + "/test/data/kickstart/commands.cases");
    REQUIRE(cases.size() > 250);
    std::size_t errors = 0;
    for (const auto& c : cases) {
        INFO("case at commands.cases:" << c.file_line << "\n" << c.input);
        if (c.is_error) {
            ++errors;
            try {
                ks::parse_string(c.input, "t.ks");
                FAIL("no error");
            } catch (const imgcreate::KickstartError& e) {
                CHECK(e.message() == c.expected);
                CHECK(e.line() == c.error_line);
                CHECK(e.file() == "t.ks");
            }
        } else {
            ks::Kickstart k = ks::parse_string(c.input, "t.ks");
            const std::string out = ks::to_string(k);
            CHECK(out == c.expected);
            std::vector<std::string> warnings;
            for (const auto& w : k.warnings) warnings.push_back(std::to_string(w.line) + ": " + w.message);
            CHECK(warnings == c.warnings);
            // round trip: the canonical text parses back to the same kickstart — except where
            // pykickstart's canonical form itself loses something: the old keyboard argument
            // next to --xlayouts becomes a comment, and "-@^env" before "@^env" is written after it
            const bool lossy = c.input == "keyboard us --xlayouts=cz" || c.input.find("-@^env\n@^env") != std::string::npos;
            if (!lossy) {
                ks::Kickstart again = ks::parse_string(out, "t.ks");
                CHECK(again == k);
                CHECK(ks::to_string(again) == out);
            }
        }
    }
    CHECK(errors > 90);
}

TEST_CASE("Words are split like a POSIX shell splits them, as pykickstart's shlex does", "[kickstart][lexer]") {
    using V = std::vector<std::string>;
    CHECK(ks::split_words("part / --size=100\n") == V{"part", "/", "--size=100"});
    CHECK(ks::split_words("a 'b c' \"d e\" f\\ g") == V{"a", "b c", "d e", "f g"});
    CHECK(ks::split_words("x \"a\\\"b\\\\c\\d\"") == V{"x", "a\"b\\c\\d"});
    CHECK(ks::split_words("x '' \"\"") == V{"x", "", ""});
    CHECK(ks::split_words("lang en_US # comment") == V{"lang", "en_US"});
    CHECK(ks::split_words("a#b c") == V{"a"});
    CHECK(ks::split_words("a#b c", false) == V{"a#b", "c"});
    CHECK(ks::split_words("'#' \"#\"") == V{"#", "#"});
    CHECK(ks::split_words("a'b'\"c\"d") == V{"abcd"});
    std::vector<std::string> out;
    CHECK(ks::split_words("lang \"en", out) == ks::SplitError::no_closing_quotation);
    CHECK(ks::split_words("lang 'en", out) == ks::SplitError::no_closing_quotation);
    CHECK(ks::split_words("lang en\\", out) == ks::SplitError::no_escaped_character);
}

TEST_CASE("Long options may be shortened to an unambiguous prefix", "[kickstart][options]") {
    CHECK(command_text("network --bootpro=static --dev=eth0 --ip=10.0.0.2\n").find(
              "network  --bootproto=static --device=eth0 --ip=10.0.0.2\n") != std::string::npos);
    CHECK(error_of("part / --f=100\n") ==
          "t.ks:1: ambiguous option: --f=100 could match --fstype, --fsoptions, --fsprofile");
    CHECK(command_text("part / --s=100\n").find("part / --size=100\n") != std::string::npos);
    CHECK(error_of("bootloader --time=x\n") == "t.ks:1: argument --timeout: invalid int value: 'x'");
    CHECK(error_of("bootloader --location\n") == "t.ks:1: argument --location: expected one argument");
    CHECK(error_of("skipx --foo=1\n") == "t.ks:1: unrecognized arguments: --foo=1");
    CHECK(error_of("zerombr --foo\n") == "t.ks:1: unrecognized arguments: --foo");
    CHECK(error_of("xconfig --startxonboot=yes\n") == "t.ks:1: argument --startxonboot: ignored explicit argument 'yes'");
    CHECK(error_of("selinux --enforcing --bogus x\n") == "t.ks:1: unrecognized arguments: --bogus x");
}

TEST_CASE("Kickstart mistakes name the file and line and say what is wrong", "[kickstart][errors]") {
    // unknown command, unknown option, missing required argument
    CHECK(error_of("lang en_US\nfrobnicate now\n") == "t.ks:2: Unknown command: frobnicate");
    CHECK(error_of("\n\nrepo --baseurl=http://x\n") == "t.ks:3: the following arguments are required: --name");
    CHECK(error_of("lang\n") == "t.ks:1: the following arguments are required: <lang>");
    // bad values: wrong type, not one of the choices, out of range
    CHECK(error_of("part / --size=big\n") == "t.ks:1: argument --size: invalid int value: 'big'");
    CHECK(error_of("network --bootproto=magic\n") ==
          "t.ks:1: argument --bootproto: invalid choice: 'magic' (choose from 'dhcp', 'bootp', 'static', 'query', 'ibft')");
    CHECK(error_of("logvol /x --vgname=vg --name=x --percent=101\n") == "t.ks:1: Percentage must be between 0 and 100.");
    CHECK(error_of("volgroup vg pv.1 --reserved-percent=100\n") ==
          "t.ks:1: Volume group reserved space percentage must be between 1 and 99.");
    // removed command and removed option
    CHECK(error_of("vnc --password=x\n") == "t.ks:1: vnc has been removed.");
    CHECK(error_of("module --name=nodejs --stream=18\n") == "t.ks:1: module has been removed.");
    CHECK(error_of("bootloader --location=mbr --upgrade\n") ==
          "t.ks:1: unrecognized arguments: --upgrade (--upgrade of bootloader was removed in Fedora34)");
    // conflicting options and commands
    CHECK(error_of("rescue --nomount --romount\n") ==
          "t.ks:1: Only one of --nomount and --romount may be specified for rescue command.");
    CHECK(error_of("url --url=http://a --mirrorlist=http://b\n") ==
          "t.ks:1: Only one of --mirrorlist, --url options may be specified for url command.");
    CHECK(error_of("autopart\npart / --size=100\n") == "t.ks:2: The part and autopart commands can't be used at the same time.");
    CHECK(error_of("part / --size=100\nautopart --type=lvm\n") ==
          "t.ks:2: The autopart and partition commands can't be used at the same time.");
    // quoting
    CHECK(error_of("lang \"en_US\n") == "t.ks:1: No closing quotation");
    // sections
    CHECK(error_of("lang en_US\n%post\necho hi\n") == "t.ks:2: Section %post does not end with %end.");
    CHECK(error_of("%packages\nvim\n%post\necho\n%end\n") ==
          "t.ks:1: Section %packages does not end with %end. (%post starts at t.ks:3)");
    CHECK(error_of("%frobnicate\n%end\n") == "t.ks:1: Unknown kickstart section: %frobnicate");
    CHECK(error_of("%post --nochroot=1\n%end\n") == "t.ks:1: argument --nochroot: ignored explicit argument '1'");
    CHECK(error_of("%pre --nochroot\n%end\n") == "t.ks:1: unrecognized arguments: --nochroot");
    CHECK(error_of("%packages --default --nocore\n%end\n") == "t.ks:1: --default and --nocore cannot be used together");
    CHECK(error_of("%packages\n@core --nodefaults --optional\n%end\n") ==
          "t.ks:2: Group cannot specify both --nodefaults and --optional");
    CHECK(error_of("%packages\n-\n%end\n") == "t.ks:2: a package line of just '-' names nothing to exclude");
    CHECK(error_of("%include\n") == "t.ks:1: %include needs the name of the file to include");
}

TEST_CASE("Deprecated options and repeated commands are warnings, as pykickstart decides", "[kickstart][warnings]") {
    auto k = ks::parse_string("timezone UTC --isUtc\nlang en_US\nlang de_DE\n%packages --instLangs=en\n%end\n", "t.ks");
    REQUIRE(k.warnings.size() == 3);
    CHECK(k.warnings[0].to_string() ==
          "t.ks:1: warning: The --isUtc option of timezone is deprecated and has no effect; a future release may refuse it. "
          "Remove it from the kickstart file.");
    CHECK(k.warnings[1].to_string() ==
          "t.ks:3: warning: The lang command overrides the lang command given at t.ks:2; the later one wins.");
    CHECK(k.warnings[2].line == 4);
    // the deprecations are pykickstart's warnings (its ksvalidator fails on them); the override is ours
    CHECK(k.warnings[0].parse_warning);
    CHECK_FALSE(k.warnings[1].parse_warning);
    CHECK(k.warnings[2].parse_warning);
    REQUIRE(k.lang);
    CHECK(k.lang->lang == "de_DE");
    CHECK(k.lang->origin == ks::Origin{"t.ks", 3});
    CHECK(k.timezone->utc);
    CHECK(k.packages.inst_langs == std::optional<std::string>("en"));

    // single-use commands merge like pykickstart: the later line's options win, unset ones stay
    auto b = ks::parse_string("bootloader --location=mbr --timeout=3\nbootloader --append=quiet\n", "t.ks");
    CHECK(ks::to_string(b).find("bootloader --append=\"quiet\" --location=mbr --timeout=3\n") != std::string::npos);

    // two repos with one name: a warning (pykickstart keeps both)
    auto r = ks::parse_string("repo --name=a --baseurl=http://x\nrepo --name=a --baseurl=http://y\n", "t.ks");
    REQUIRE(r.warnings.size() == 1);
    CHECK(r.warnings[0].message == "A repo with the name a has already been defined.");
    CHECK(r.repos.size() == 2);
    // two snapshots with one name: an error
    CHECK(error_of("snapshot vg/a --name=s --when=pre-install\nsnapshot vg/b --name=s --when=pre-install\n") ==
          "t.ks:2: Snapshot with the name s has been already defined!");
}

TEST_CASE("The typed model holds what creators need", "[kickstart][model]") {
    auto k = ks::parse_string(
        "rootpw --iscrypted --lock $6$x\n"
        "timezone America/New_York --utc\n"
        "timesource --ntp-server=ntp.example.com --nts\n"
        "lang en_US.UTF-8 --addsupport=de_DE\n"
        "keyboard --vckeymap=us --xlayouts=us,cz\n"
        "network --bootproto=static --device=eth0 --ip=10.0.0.2 --netmask=255.255.255.0 --gateway=10.0.0.1 "
        "--nameserver=10.0.0.1,10.0.0.2 --hostname=box --onboot=no --no-activate\n"
        "network --device=eth1 --activate\n"
        "firewall --enabled --ssh --port=8080:tcp --service=mdns\n"
        "selinux --permissive\n"
        "services --enabled=sshd --disabled=cups,avahi-daemon\n"
        "bootloader --location=mbr --append=\"console=ttyS0\" --timeout=5\n"
        "xconfig --startxonboot\n"
        "repo --name=fedora --mirrorlist=http://m --cost=10 --includepkgs=a,b --excludepkgs=c --install --noverifyssl\n"
        "url --url=http://example.com/os\n"
        "zerombr\n"
        "clearpart --all --initlabel\n"
        "part / --size=4096 --fstype=ext4 --grow --label=root --ondisk=vda\n"
        "part swap --recommended\n"
        "user --name=joe --groups=wheel --uid=1000 --password=x --iscrypted\n"
        "group --name=devs --gid=2000\n"
        "sshkey --username=joe \"ssh-ed25519 AAAA joe\"\n"
        "firstboot --disable\n"
        "eula --agreed\n"
        "text\n"
        "poweroff\n"
        "authselect select sssd with-mkhomedir\n"
        "%packages --excludedocs\n@core\n-@games\n@^server\n@nodejs:18/default\nvim\n-nano\n%end\n"
        "%post --nochroot --log=/tmp/post.log\necho hi\n%end\n"
        "%pre-install\necho pre\n%end\n",
        "m.ks");
    REQUIRE(k.rootpw);
    CHECK(k.rootpw->password == "$6$x");
    CHECK(k.rootpw->iscrypted);
    CHECK(k.rootpw->lock);
    CHECK(k.rootpw->origin == ks::Origin{"m.ks", 1});
    CHECK(k.timezone->name == "America/New_York");
    CHECK(k.timezone->utc);
    REQUIRE(k.timesources.size() == 1);
    CHECK(k.timesources[0].ntp_server == "ntp.example.com");
    CHECK(k.timesources[0].nts);
    CHECK(k.lang->addsupport == std::vector<std::string>{"de_DE"});
    CHECK(k.keyboard->xlayouts == std::vector<std::string>{"us", "cz"});
    REQUIRE(k.network.size() == 2);
    CHECK(k.network[0].bootproto == "static");
    CHECK(k.network[0].ip == "10.0.0.2");
    CHECK(k.network[0].nameserver == "10.0.0.1,10.0.0.2");
    CHECK_FALSE(k.network[0].onboot);
    CHECK(k.network[0].activate == std::optional<bool>(false));
    CHECK(k.network[1].bootproto == "dhcp");
    CHECK(k.network[1].activate == std::optional<bool>(true));
    CHECK(k.firewall->enabled);
    CHECK(k.firewall->ports == std::vector<std::string>{"8080:tcp"});
    CHECK(k.firewall->services == std::vector<std::string>{"ssh", "mdns"});  // --ssh adds the service
    CHECK(k.selinux == ks::SELinuxMode::permissive);
    CHECK(k.services->disabled == std::vector<std::string>{"cups", "avahi-daemon"});
    CHECK(k.bootloader->append == "console=ttyS0");
    CHECK(k.bootloader->timeout == std::optional<long long>(5));
    CHECK(k.xconfig->startxonboot);
    REQUIRE(k.repos.size() == 1);
    CHECK(k.repos[0].mirrorlist == "http://m");
    CHECK(k.repos[0].cost == std::optional<long long>(10));
    CHECK(k.repos[0].includepkgs == std::vector<std::string>{"a", "b"});
    CHECK(k.repos[0].install);
    CHECK(k.url->url == "http://example.com/os");
    CHECK(k.zerombr);
    CHECK(k.clearpart->type == ks::ClearPartType::all);
    CHECK(k.clearpart->initlabel);
    REQUIRE(k.partitions.size() == 2);
    CHECK(k.partitions[0].mountpoint == "/");
    CHECK(k.partitions[0].size == std::optional<long long>(4096));
    CHECK(k.partitions[0].grow);
    CHECK(k.partitions[0].ondisk == "vda");
    CHECK(k.partitions[1].recommended);
    CHECK(k.partitions[1].origin.line == 18);
    CHECK(k.users[0].uid == std::optional<long long>(1000));
    CHECK(k.groups[0].gid == std::optional<long long>(2000));
    CHECK(k.sshkeys[0].key == "ssh-ed25519 AAAA joe");
    CHECK(k.firstboot == ks::Firstboot::disable);
    CHECK(k.eula_agreed);
    CHECK(k.display_mode == ks::DisplayMode::text);
    CHECK(k.final_action == ks::FinalAction::shutdown);
    CHECK(k.authselect == "select sssd with-mkhomedir");

    REQUIRE(k.packages.entries.size() == 6);
    using K = ks::PackageKind;
    CHECK(k.packages.entries[0].kind == K::group);
    CHECK(k.packages.entries[1].kind == K::exclude_group);
    CHECK(k.packages.entries[2].kind == K::environment);
    CHECK(k.packages.entries[3].kind == K::module);
    CHECK(k.packages.entries[3].name == "nodejs:18/default");
    CHECK(k.packages.entries[4].kind == K::package);
    CHECK(k.packages.entries[5].kind == K::exclude);
    CHECK(k.packages.entries[5].origin == ks::Origin{"m.ks", 33});
    CHECK(k.packages.excludedocs);
    CHECK(k.packages.environment == "server");

    REQUIRE(k.scripts.size() == 2);
    CHECK(k.scripts[0].type == ks::ScriptType::post);
    CHECK_FALSE(k.scripts[0].chroot);
    CHECK(k.scripts[0].log == std::optional<std::string>("/tmp/post.log"));
    CHECK(k.scripts[0].body == "echo hi\n");
    CHECK(k.scripts[0].origin.line == 35);
    CHECK(k.scripts[1].type == ks::ScriptType::pre_install);

    const ks::Command* lang = k.find("lang");
    REQUIRE(lang);
    CHECK(lang->data.text("lang") == "en_US.UTF-8");
    CHECK(k.find_all("partition").size() == 2);
}

TEST_CASE("%addon sections are kept verbatim and written back", "[kickstart][sections]") {
    auto k = ks::parse_string("%addon com_redhat_kdump --enable --reserve-mb='auto'\n\n%end\n", "a.ks");
    REQUIRE(k.addons.size() == 1);
    CHECK(k.addons[0].name == "com_redhat_kdump");
    CHECK(k.addons[0].args == std::vector<std::string>{"%addon", "com_redhat_kdump", "--enable", "--reserve-mb=auto"});
    CHECK(k.addons[0].header == "%addon com_redhat_kdump --enable --reserve-mb='auto'");
    CHECK(ks::to_string(k).find("\n\n%addon com_redhat_kdump --enable --reserve-mb='auto'\n\n%end\n") != std::string::npos);
}

TEST_CASE("The platform comment is kept", "[kickstart][sections]") {
    auto k = ks::parse_string("#platform=x86, AMD64, or Intel EM64T\nlang en_US\n", "p.ks");
    CHECK(k.platform == "x86, AMD64, or Intel EM64T");
    CHECK(ks::to_string(k).rfind("# Generated by pykickstart v3.74\n#platform=x86, AMD64, or Intel EM64T\n#version=DEVEL\n", 0) == 0);
    ks::WriteOptions w;
    w.header = "# written by imgcreate";
    CHECK(ks::to_string(k, w).rfind("# written by imgcreate\n", 0) == 0);
}

TEST_CASE("With keep_going, command errors are collected and parsing goes on", "[kickstart][validate]") {
    ks::ParseOptions o;
    o.keep_going = true;
    auto k = ks::parse_string("lang\npart / --size=x\nkeyboard us\nfrob\n", "v.ks", o);
    REQUIRE(k.errors.size() == 3);
    CHECK(std::string(k.errors[0].what()) == "v.ks:1: the following arguments are required: <lang>");
    CHECK(std::string(k.errors[1].what()) == "v.ks:2: argument --size: invalid int value: 'x'");
    CHECK(std::string(k.errors[2].what()) == "v.ks:4: Unknown command: frob");
    CHECK(k.keyboard->keyboard == "us");
}

TEST_CASE("Validation lists every error, the structural one that ends parsing last", "[kickstart][validate]") {
    const ks::Validation v = ks::validate_string("lang\npart / --size=x\ntimezone UTC --isUtc\n%post\necho\n", "v.ks");
    REQUIRE(v.errors.size() == 3);
    CHECK(std::string(v.errors[0].what()) == "v.ks:1: the following arguments are required: <lang>");
    CHECK(std::string(v.errors[1].what()) == "v.ks:2: argument --size: invalid int value: 'x'");
    CHECK(std::string(v.errors[2].what()) == "v.ks:4: Section %post does not end with %end.");
    REQUIRE(v.warnings.size() == 1);
    CHECK(v.warnings[0].line == 3);
    CHECK_FALSE(v.ok());
    const ks::Validation first = ks::validate_string("lang\npart / --size=x\n", "v.ks", {}, true);
    REQUIRE(first.errors.size() == 1);
    CHECK(first.errors[0].line() == 1);
    CHECK(ks::validate_string("lang en_US\n", "ok.ks").ok());
}

TEST_CASE("With warnings_are_errors a deprecated option is an error where it stands and parsing goes on",
          "[kickstart][validate][warnings]") {
    ks::ParseOptions strict;
    strict.warnings_are_errors = true;
    const ks::Validation v =
        ks::validate_string("timezone UTC --isUtc\nlang en_US\nlang de_DE\npart / --size=1\npart / --size=2\n%traceback\necho\n%end\n",
                            "w.ks", strict);
    REQUIRE(v.errors.size() == 3);
    CHECK(std::string(v.errors[0].what()) ==
          "w.ks:1: The --isUtc option of timezone is deprecated and has no effect; a future release may refuse it. "
          "Remove it from the kickstart file.");
    CHECK(std::string(v.errors[1].what()) == "w.ks:5: A partition with the mountpoint / has already been defined.");
    CHECK(v.errors[2].line() == 6);
    CHECK(std::string(v.errors[2].what()).find("%traceback section is deprecated") != std::string::npos);
    // a later single-use command overriding an earlier one stays a note
    REQUIRE(v.warnings.size() == 1);
    CHECK_FALSE(v.warnings[0].parse_warning);
    CHECK(v.warnings[0].line == 3);
    // the first error only (ksvalidator -e): the deprecation ends it
    const ks::Validation first = ks::validate_string("timezone UTC --isUtc\nfrob\n", "w.ks", strict, true);
    REQUIRE(first.errors.size() == 1);
    CHECK(first.errors[0].line() == 1);
    // parse_string throws at the first one
    CHECK_THROWS_AS(ks::parse_string("lang en_US\ntimezone UTC --isUtc\n", "w.ks", strict), imgcreate::KickstartError);
}

TEST_CASE("A kickstart is edited through its commands, and the typed view and the writer follow", "[kickstart][edit]") {
    ks::Kickstart k = ks::parse_string(
        "rootpw --plaintext secret\nrepo --name=base --baseurl=file:///srv/base\nfirewall --enabled --service=ssh\nlang en_US\n",
        "e.ks");
    REQUIRE(k.rootpw);
    CHECK(k.rootpw->password == "secret");

    ks::set_command(k, "rootpw --lock");
    REQUIRE(k.rootpw);
    CHECK(k.rootpw->lock);
    CHECK(k.rootpw->password.empty());
    ks::set_command(k, "repo --name=extra --baseurl=file:///srv/extra --cost=5");
    REQUIRE(k.repos.size() == 2);
    CHECK(k.repos[1].name == "extra");
    CHECK(k.repos[1].cost == 5);
    CHECK(k.find_all("repo").back()->origin == ks::Origin{"<set_command>", 1});
    CHECK(ks::remove_command(k, "firewall") == 1);
    CHECK_FALSE(k.firewall);
    CHECK(ks::remove_command(k, "firewall") == 0);
    ks::set_command(k, "lang de_DE --addsupport=fr_FR", "edits");
    CHECK(k.lang->lang == "de_DE");
    CHECK(k.lang->addsupport == std::vector<std::string>{"fr_FR"});

    const std::string text = ks::to_string(k);
    CHECK(text.find("rootpw --lock\n") != std::string::npos);
    CHECK(text.find("secret") == std::string::npos);
    CHECK(text.find("repo --name=\"extra\" --baseurl=file:///srv/extra --cost=5\n") != std::string::npos);
    CHECK(text.find("firewall") == std::string::npos);
    CHECK(text.find("lang de_DE --addsupport=fr_FR\n") != std::string::npos);
    // what was written reads back as the edited kickstart
    CHECK(ks::parse_string(text, "again.ks") == k);

    // a bad edit is an error like a bad line, and leaves the kickstart as it was
    const ks::Kickstart before = k;
    auto edit_error = [&](const std::string& line) {
        try {
            ks::set_command(k, line);
        } catch (const imgcreate::KickstartError& e) {
            return std::string(e.what());
        }
        return std::string("(no error)");
    };
    CHECK(edit_error("repo --name=extra --baseurl=file:///x") == "<set_command>:1: A repo with the name extra has already been defined.");
    CHECK(edit_error("rootpw --frob") == "<set_command>:1: A single argument is expected for the rootpw command");
    CHECK(edit_error("timezone UTC --isUtc").find("--isUtc option of timezone is deprecated") != std::string::npos);
    CHECK(edit_error("frob") == "<set_command>:1: Unknown command: frob");
    CHECK(edit_error("%post") == "<set_command>:1: %post is not a command: sections are edited through Kickstart::packages and Kickstart::scripts.");
    CHECK(edit_error("lang en_US\nkeyboard us\n") == "<set_command>:1: Give one command line at a time, not several.");
    CHECK(k == before);
    CHECK(k.repos.size() == 2);
    CHECK_THROWS_AS(ks::remove_command(k, "frob"), imgcreate::KickstartError);
}
