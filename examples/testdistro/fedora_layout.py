"""What turns a converted Debian package into the package a Fedora-family creator expects.

Debian's maintainer scripts are not carried over. What they do that a booted system needs is
written here as Fedora writes it: accounts in %pre, `systemctl preset` and an ldconfig file
trigger, the kernel's %posttrans building the initramfs with the image's own dracut, files
Debian generates at install time (/etc/passwd, PAM's common-*, sshd_config, the compiled
SELinux policy) shipped as %config files. Packages the creators look for by name or path are
renamed and moved: kernel-core/kernel-modules, shim-x64 and grub2-efi-x64 under
/boot/efi/EFI/fedora, grub2-pc, selinux-policy-targeted.
"""

import os
import shutil
import subprocess
import time

# Fedora's names for the Debian packages the creators (and kickstarts) name.
RENAMES = {
    "linux-image-amd64": "kernel",
    "grub-pc-bin": "grub2-pc",
    "grub-efi-amd64-signed": "grub2-efi-x64",
    "shim-signed": "shim-x64",
    "selinux-policy-default": "selinux-policy-targeted",
}
# Debian's essential packages are never named as dependencies; a Fedora package names what it runs.
EXTRA_REQUIRES = {
    "dracut-core": ["grep", "sed", "gzip", "findutils", "util-linux"],
}
EXTRA_PROVIDES = {
    "passwd": ["shadow-utils"],
    "systemd": ["systemd-udev"],
}

# update-alternatives links, resolved as Debian resolves them with only these packages
# installed: the link belongs to the package whose program it points at.
ALTERNATIVES = {
    "mawk": [("usr/bin/awk", "mawk"), ("usr/bin/nawk", "mawk")],
    "vim-tiny": [(f"usr/bin/{n}", "vim.tiny") for n in ("editor", "vi", "ex", "view", "rview")],
    "util-linux": [("usr/bin/pager", "more")],
    "debianutils": [("usr/bin/which", "which.debianutils")],
    "tar": [("usr/sbin/rmt", "rmt-tar")],
    "cpio": [("usr/bin/mt", "mt-gnu")],
    "procps": [("usr/bin/w", "w.procps")],
}

# The kernel modules a qemu guest (and a live boot in one) needs; their dependencies are kept too.
KERNEL_MODULES = """
    sr_mod cdrom isofs sd_mod ata_piix ata_generic ahci libahci virtio_pci virtio_blk virtio_scsi virtio_net
    virtio_console virtio_rng virtio_balloon e1000 usb_storage uas xhci_pci ehci_pci uhci_hcd ohci_pci
    squashfs loop dm_mod dm_snapshot overlay ext4 xfs btrfs vfat msdos nls_cp437 nls_ascii nls_utf8
    autofs4 efivarfs fuse configfs qemu_fw_cfg af_packet crc32c_generic crc32c_intel sch_fq_codel
    evdev serio_raw psmouse i2c_piix4 button
""".split()
# Modules of kernel-core; the rest of the kept ones go to kernel-modules.
CORE_MODULE_DIRS = ("kernel/fs/", "kernel/block/", "kernel/crypto/", "kernel/lib/", "kernel/arch/",
                    "kernel/drivers/ata/", "kernel/drivers/scsi/", "kernel/drivers/cdrom/", "kernel/drivers/block/",
                    "kernel/drivers/virtio/", "kernel/drivers/md/", "kernel/drivers/firmware/")

PAM_COMMON = {
    "common-auth": "auth\t[success=1 default=ignore]\tpam_unix.so nullok\nauth\trequisite\t\t\tpam_deny.so\n"
                   "auth\trequired\t\t\tpam_permit.so\n",
    "common-account": "account\t[success=1 new_authtok_reqd=done default=ignore]\tpam_unix.so\n"
                      "account\trequisite\t\t\tpam_deny.so\naccount\trequired\t\t\tpam_permit.so\n",
    "common-password": "password\t[success=1 default=ignore]\tpam_unix.so obscure yescrypt\n"
                       "password\trequisite\t\t\tpam_deny.so\npassword\trequired\t\t\tpam_permit.so\n",
    "common-session": "session\t[default=1]\t\t\tpam_permit.so\nsession\trequisite\t\t\tpam_deny.so\n"
                      "session\trequired\t\t\tpam_permit.so\nsession\trequired\tpam_unix.so\n"
                      "session\toptional\t\t\tpam_systemd.so\n",
    "common-session-noninteractive": "session\t[default=1]\t\t\tpam_permit.so\nsession\trequisite\t\t\tpam_deny.so\n"
                                     "session\trequired\t\t\tpam_permit.so\nsession\trequired\tpam_unix.so\n",
}


class Context:
    """What the rules need to know beyond one package."""

    def __init__(self, debs, workdir):
        self.debs = {os.path.basename(d).split("_")[0]: d for d in debs}
        self.workdir = workdir
        self.epoch_days = int(os.environ.get("SOURCE_DATE_EPOCH", "1700000000")) // 86400


def rpm_dependency_name(name):
    return name  # renamed packages keep providing their Debian names


def generated_header(what):
    return f"# {what}\n# Written by the testdistro repository (Debian generates it at install time).\n"


# --- helpers -----------------------------------------------------------------------------

def renamed(package):
    new = RENAMES.get(package.debian_name)
    if new:
        package.provides.append(f"{package.debian_name} = " + evr_text(package.evr))
        package.name = new


def evr_text(evr):
    epoch, version, release = evr
    return (epoch + ":" if epoch else "") + version + "-" + release


def accounts_pre(package, groups=(), users=()):
    """Fedora's %pre for system accounts: groupadd/useradd unless they exist."""
    lines = []
    for g in groups:
        lines.append(f"getent group {g} >/dev/null || groupadd -r {g}")
    for name, home, gecos in users:
        lines.append(f"getent group {name} >/dev/null || groupadd -r {name}")
        lines.append(f"getent passwd {name} >/dev/null || useradd -r -g {name} -d {home} -s /usr/sbin/nologin "
                     f"-c '{gecos}' {name}")
    package.add_script("pre", "\n".join(lines))
    package.requires_pre += ["passwd", "libc-bin", "base-passwd"]


def config_copy(package, source, target, mode=0o644):
    entry = package.write_file(target, package.read(source), mode)
    entry.config = True


def add_new_files(package):
    """Registers files a rule made in the build root (owned by root, modes as on disk)."""
    from deb2rpm import FileEntry
    for dirpath, dirnames, filenames in os.walk(package.stage):
        for name in dirnames + filenames:
            full = os.path.join(dirpath, name)
            rel = os.path.relpath(full, package.stage)
            if rel in package.files:
                continue
            st = os.lstat(full)
            if os.path.islink(full):
                package.files[rel] = FileEntry("symlink", 0o777, link=os.readlink(full))
            else:
                package.files[rel] = FileEntry("dir" if os.path.isdir(full) else "file", st.st_mode & 0o7777)


# --- the rules, one per Debian package ---------------------------------------------------

def base_passwd(package, ctx):
    """Fedora's setup ships the account files; Debian's base-passwd makes them at install."""
    passwd = package.read("usr/share/base-passwd/passwd.master").splitlines()
    group = package.read("usr/share/base-passwd/group.master").splitlines()
    shadow = [f"{l.split(':')[0]}:*:{ctx.epoch_days}:0:99999:7:::" for l in passwd]
    passwd = [":".join([f[0], "x"] + f[2:]) for f in (l.split(":") for l in passwd)]
    gshadow = [f"{l.split(':')[0]}:*::" for l in group]
    group = [":".join([f[0], "x"] + f[2:]) for f in (l.split(":") for l in group)]
    for path, lines, mode in (("etc/passwd", passwd, 0o644), ("etc/group", group, 0o644),
                              ("etc/shadow", shadow, 0o640), ("etc/gshadow", gshadow, 0o640)):
        entry = package.write_file(path, "\n".join(lines) + "\n", mode)
        entry.config = True
    # The shadow group is defined by the /etc/group this package brings, so rpm cannot give
    # it to files of the same package: Debian's group ownership is set once it exists.
    package.add_script("post", "chgrp shadow /etc/shadow /etc/gshadow")
    package.requires_post.append("coreutils")


def base_files(package, ctx):
    for source, target in (("dot.profile", "root/.profile"), ("dot.bashrc", "root/.bashrc"),
                           ("profile", "etc/profile"), ("motd", "etc/motd")):
        config_copy(package, f"usr/share/base-files/{source}", target)
    for d in ("mnt", "srv", "opt", "etc/opt", "var/opt", "media", "usr/local/bin", "usr/local/sbin",
              "usr/local/lib", "usr/local/share", "usr/local/src", "usr/local/etc", "usr/local/include"):
        package.ensure_dirs(d)
    os.makedirs(os.path.join(package.stage, "var/mail"), exist_ok=True)
    package.ensure_dirs("var/mail")
    package.files["var/mail"].mode, package.files["var/mail"].group = 0o2775, "mail"
    # As the kernel's mounts have them: rpm would otherwise chmod the mounted /proc and /sys.
    for d in ("proc", "sys"):
        package.files[d].mode = 0o555
        os.chmod(os.path.join(package.stage, d), 0o555)
    package.requires_pre.append("base-passwd")


def libc_bin(package, ctx):
    config_copy(package, "usr/share/libc-bin/nsswitch.conf", "etc/nsswitch.conf")
    package.ghost("etc/ld.so.cache")
    # glibc's file triggers: the library cache follows every library installed or removed.
    for kind in ("transfiletriggerin", "transfiletriggerpostun"):
        package.triggers.append((kind, ["/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib"], "/usr/sbin/ldconfig\n"))
    package.add_script("posttrans", "/usr/sbin/ldconfig")


def libpam_runtime(package, ctx):
    for name, text in PAM_COMMON.items():
        package.write_file(f"etc/pam.d/{name}", generated_header(f"/etc/pam.d/{name}: pam_unix, pam_systemd") + text,
                           config=True)


def systemd(package, ctx):
    # Fedora's policy: units are disabled unless a preset enables them (Debian enables every one).
    package.write_file("usr/lib/systemd/system-preset/99-default-disable.preset", "disable *\n")
    package.add_script("post", "systemd-sysusers basic.conf systemd-journal.conf systemd-network.conf || :\n"
                               "systemd-tmpfiles --create --prefix /var/log/journal >/dev/null 2>&1 || :")
    # %systemd_post for the whole transaction: every installed unit gets its preset.
    package.add_script("posttrans", "systemctl --no-reload preset-all --preset-mode=enable-only >/dev/null 2>&1 || :")


def passwd(package, ctx):
    # Fedora's useradd gives new users bash; Debian's gives them sh.
    text = package.read("etc/default/useradd").replace("\nSHELL=/bin/sh\n", "\nSHELL=/bin/bash\n")
    package.write_file("etc/default/useradd", text, config=True)


def udev(package, ctx):
    accounts_pre(package, groups=("input", "sgx", "kvm", "render"))
    package.add_script("posttrans", "systemd-hwdb update >/dev/null 2>&1 || :")


def dbus_system_bus_common(package, ctx):
    accounts_pre(package, users=[("messagebus", "/nonexistent", "System Message Bus")])


def dbus(package, ctx):
    helper = package.files.get("usr/lib/dbus-1.0/dbus-daemon-launch-helper")
    if helper:
        helper.mode, helper.group = 0o4754, "messagebus"
    package.requires_pre.append("dbus-system-bus-common")


def openssh_server(package, ctx):
    config_copy(package, "usr/share/openssh/sshd_config", "etc/ssh/sshd_config")
    # Fedora's unit name; Debian's stays as the alias.
    unit = package.read("usr/lib/systemd/system/ssh.service").replace("Alias=sshd.service", "Alias=ssh.service")
    package.remove("usr/lib/systemd/system/ssh.service")
    package.write_file("usr/lib/systemd/system/sshd.service", unit)
    # Host keys are made on first boot (Debian makes them at install, which would put one
    # machine's keys into every image).
    package.write_file("usr/lib/systemd/system/sshd-keygen.service",
                       "[Unit]\nDescription=OpenSSH host keys\nBefore=sshd.service\n"
                       "ConditionFileNotEmpty=|!/etc/ssh/ssh_host_ed25519_key\n\n"
                       "[Service]\nType=oneshot\nExecStart=/usr/bin/ssh-keygen -A\n")
    package.write_file("usr/lib/systemd/system/sshd.service.d/keygen.conf",
                       "[Unit]\nWants=sshd-keygen.service\nAfter=sshd-keygen.service\n")
    accounts_pre(package, users=[("sshd", "/run/sshd", "sshd privilege separation")])


def iputils_ping(package, ctx):
    package.files["usr/bin/ping"].caps = "cap_net_raw=ep"


def grub_efi_amd64_signed(package, ctx):
    source = "usr/lib/grub/x86_64-efi-signed"
    for name in ("grubx64", "gcdx64"):
        package.move(f"{source}/{name}.efi.signed", f"boot/efi/EFI/fedora/{name}.efi")
    package.remove(source)


def shim_signed(package, ctx):
    package.move("usr/lib/shim/shimx64.efi.signed", "boot/efi/EFI/fedora/shimx64.efi")


def selinux_policy_default(package, ctx):
    """Fedora ships the compiled policy; Debian compiles it in postinst. Compile it here."""
    stage = package.stage
    modules = package.read("usr/share/selinux/default/.modules").split()
    semanage_conf = os.path.join(stage, "etc/selinux/semanage.conf")
    with open(semanage_conf, "w") as f:
        f.write("module-store = direct\nexpand-check=0\n")
    with open(os.path.join(stage, "etc/selinux/config"), "w") as f:
        f.write(generated_header("/etc/selinux/config") +
                "SELINUX=permissive\nSELINUXTYPE=default\n")
    argv = ["semodule", "-p", stage, "-s", "default", "-n", "-X", "100"]
    argv += [f"-i{stage}/usr/share/selinux/default/{m}.pp.bz2" for m in modules]
    # Debian's postinst leaves these out of the default set.
    argv += [f"-d{m}" for m in "amtu bugzilla cobbler condor cyphesis git ksmtuned likewise livecd nessus numad "
                              "oddjob openca soundserver thunderbird updfstab usernetctl".split() if m in modules]
    result = subprocess.run(argv, capture_output=True, text=True)
    if result.returncode != 0:
        from deb2rpm import ConversionError
        raise ConversionError(f"{package.debian_name}: compiling the policy with semodule failed:\n{result.stderr[-2000:]}")
    os.unlink(semanage_conf)
    add_new_files(package)
    package.files["etc/selinux/config"].config = True
    # semodule's lock files and timestamps are not part of the policy.
    for path in [p for p in package.files if p.endswith(".LOCK")]:
        package.remove(path)


def kernel_image(package, ctx):
    """Debian's linux-image-K becomes Fedora's kernel-core and kernel-modules."""
    from deb2rpm import Package
    kver = package.debian_name[len("linux-image-"):]
    moddir = f"usr/lib/modules/{kver}"
    # Fedora keeps the kernel and its map in the module directory; kernel-install copies them to /boot.
    for name in ("vmlinuz", "config", "System.map"):
        package.move(f"boot/{name}-{kver}", f"{moddir}/{name}")
    package.remove("boot")
    trim_modules(package, moddir, kver)

    modules = Package(dict(package.control), package.stage + ".modules")
    os.makedirs(modules.stage)
    modules.name = "kernel-modules"
    modules.summary = f"Kernel modules of kernel {kver} beyond those a qemu guest boots with"
    modules.requires = [f"kernel-core = {evr_text(package.evr)}"]
    for path in sorted(p for p in package.files if p.startswith(moddir + "/kernel/")):
        entry = package.files[path]
        rel = path[len(moddir) + 1:]
        if entry.kind == "dir" or rel.startswith(CORE_MODULE_DIRS):
            continue
        target = os.path.join(modules.stage, path)
        os.makedirs(os.path.dirname(target), exist_ok=True)
        os.rename(os.path.join(package.stage, path), target)
        modules.files[path] = package.files.pop(path)
    for path in list(modules.files):  # the directories above the moved modules, for both packages
        parent = os.path.dirname(path)
        while parent.startswith(moddir) and parent not in modules.files:
            modules.files[parent] = package.files[parent]
            parent = os.path.dirname(parent)
    modules.requires_pre.append("filesystem")
    modules.add_script("posttrans", f"depmod -a {kver}")

    package.name = "kernel-core"
    package.summary = f"The Linux kernel {kver} (Debian's build) and the modules a live boot needs"
    package.provides += [f"kernel = {evr_text(package.evr)}", f"{package.debian_name} = {evr_text(package.evr)}"]
    package.requires = ["kmod", "dracut", "coreutils"]
    for name, mode in (("vmlinuz", 0o755), ("config", 0o644), ("System.map", 0o644)):
        package.ghost(f"boot/{name}-{kver}", mode)
    package.ghost(f"boot/initramfs-{kver}.img", 0o600)
    for index in ("modules.dep", "modules.dep.bin", "modules.alias", "modules.alias.bin", "modules.softdep",
                  "modules.symbols", "modules.symbols.bin", "modules.builtin.bin", "modules.builtin.alias.bin",
                  "modules.devname"):
        package.ghost(f"{moddir}/{index}")
    package.add_script("posttrans", f"""\
# What kernel-install does on Fedora: the kernel into /boot, the module index, the initramfs
# built by the image's own dracut.
kver={kver}
install -m 0755 /usr/lib/modules/$kver/vmlinuz /boot/vmlinuz-$kver
install -m 0644 /usr/lib/modules/$kver/config /boot/config-$kver
install -m 0644 /usr/lib/modules/$kver/System.map /boot/System.map-$kver
depmod -a $kver
dracut --force --kver $kver /boot/initramfs-$kver.img""")
    package.add_script("preun", f"rm -f /boot/vmlinuz-{kver} /boot/initramfs-{kver}.img")
    return [package, modules]


def trim_modules(package, moddir, kver):
    base = os.path.join(package.stage, "usr")
    subprocess.run(["depmod", "-b", base, kver], check=True)
    keep = set()
    for module in KERNEL_MODULES:
        result = subprocess.run(["modprobe", "-d", base, "-S", kver, "--show-depends", module],
                                capture_output=True, text=True)
        for line in result.stdout.splitlines():
            words = line.split()
            if words and words[0] == "insmod":
                keep.add(os.path.relpath(words[1], package.stage))
    for path in [p for p, e in package.files.items() if e.kind == "file" and p.startswith(moddir + "/kernel/")]:
        if path not in keep:
            package.remove(path)
    for path in sorted((p for p, e in package.files.items() if e.kind == "dir" and p.startswith(moddir + "/kernel")),
                       key=len, reverse=True):
        if not os.listdir(os.path.join(package.stage, path)):
            package.remove(path)
    for name in os.listdir(os.path.join(package.stage, moddir)):
        if name.startswith("modules.") and os.path.join(moddir, name) not in package.files:
            os.unlink(os.path.join(package.stage, moddir, name))  # made by depmod here: rebuilt at install


def linux_image_amd64(package, ctx):
    package.requires.append("kernel-modules")


RULES = {
    "base-passwd": base_passwd,
    "base-files": base_files,
    "libc-bin": libc_bin,
    "libpam-runtime": libpam_runtime,
    "systemd": systemd,
    "passwd": passwd,
    "udev": udev,
    "dbus-system-bus-common": dbus_system_bus_common,
    "dbus": dbus,
    "openssh-server": openssh_server,
    "iputils-ping": iputils_ping,
    "grub-efi-amd64-signed": grub_efi_amd64_signed,
    "shim-signed": shim_signed,
    "selinux-policy-default": selinux_policy_default,
    "linux-image-amd64": linux_image_amd64,
}


def apply(package, ctx):
    """Applies the layout to one converted package; returns the packages it became."""
    for path, target in ALTERNATIVES.get(package.debian_name, []):
        package.symlink(path, target)
    package.provides += EXTRA_PROVIDES.get(package.debian_name, [])
    package.requires += EXTRA_REQUIRES.get(package.debian_name, [])
    if package.debian_name != "filesystem":
        package.requires_pre.append("filesystem")
    renamed(package)
    if package.debian_name.startswith("linux-image-") and package.debian_name != "linux-image-amd64":
        return kernel_image(package, ctx)
    rule = RULES.get(package.debian_name)
    if rule:
        rule(package, ctx)
    return [package]


# --- packages that are not Debian's ------------------------------------------------------

def fill_filesystem(package):
    """Merged /usr, as Fedora's filesystem package lays it out."""
    for link, target in (("bin", "usr/bin"), ("sbin", "usr/sbin"), ("lib", "usr/lib"), ("lib64", "usr/lib64")):
        package.symlink(link, target)
    # The rest of the tree (/proc, /tmp, /root ...) is Debian's base-files'.
    for d in ("usr/bin", "usr/sbin", "usr/lib", "usr/lib64", "boot/efi/EFI"):
        package.ensure_dirs(d)


def native_packages(ctx):
    return [("filesystem", {"version": "3.18-1", "summary": "The directory layout of a merged-/usr system",
                            "fill": fill_filesystem})]
