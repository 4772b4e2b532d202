#!/bin/bash
# kiwi calls GRUB's tools by Fedora's names (grub2-*) and keeps GRUB's files in /boot/grub2; the
# testdistro's GRUB is Debian's: tools named grub-*, files in /boot/grub. Both names lead to one.
for tool in /usr/bin/grub-* /usr/sbin/grub-*; do
    [ -e "$tool" ] || continue
    link=$(dirname "$tool")/grub2-${tool##*/grub-}
    [ -e "$link" ] || ln -s "${tool##*/}" "$link"
done
mkdir -p /boot/grub2
[ -e /boot/grub ] || ln -s grub2 /boot/grub
