#!/bin/sh
# Liner Notes: install from this archive, without a Rust toolchain.
#
#   sh install.sh              the plugins into ~/.clap and ~/.vst3, `liner` into ~/.local/bin
#   sh install.sh --service    also a systemd user service running the record server (started,
#                              enabled, its first-run tokens shown once)
#   sh install.sh --uninstall  removes exactly what an install put here; never the record
#                              (journals, the server's database, settings and tokens stay)
#
# What it installed is listed in ~/.local/share/liner-notes/installed.txt (one path a line),
# which is what --uninstall removes. LINER_LISTEN sets the service's address (127.0.0.1:7878).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
data_home=${XDG_DATA_HOME:-$HOME/.local/share}
config_home=${XDG_CONFIG_HOME:-$HOME/.config}
manifest="$data_home/liner-notes/installed.txt"
unit_dir="$config_home/systemd/user"
unit="$unit_dir/liner-notes.service"
bin_dir="$HOME/.local/bin"

note() { printf '%s\n' "$*"; }
has_systemd() { command -v systemctl >/dev/null 2>&1 && systemctl --user show-environment >/dev/null 2>&1; }

installed() { printf '%s\n' "$1" >> "$manifest"; }

put() { # put SOURCE DESTINATION: copy (a file or a bundle folder), replacing, and list it
    rm -rf "$2"
    mkdir -p "$(dirname "$2")"
    cp -R "$1" "$2"
    installed "$2"
    note "installed $2"
}

uninstall() {
    if [ -f "$unit" ] && has_systemd; then
        systemctl --user disable --now liner-notes.service >/dev/null 2>&1 || true
    fi
    if [ ! -f "$manifest" ]; then
        note "nothing to uninstall: $manifest does not exist"
        return 0
    fi
    while IFS= read -r path; do
        [ -n "$path" ] || continue
        case "$path" in
            "$HOME"/*) rm -rf "$path" && note "removed $path" ;;
            *) note "left $path (not under $HOME)" ;;
        esac
    done < "$manifest"
    rm -f "$manifest"
    rmdir "$data_home/liner-notes" 2>/dev/null || true
    if has_systemd; then systemctl --user daemon-reload || true; fi
    note "Liner Notes is uninstalled; the record (journals, the server's database, settings and tokens) is kept."
}

install_files() {
    mkdir -p "$(dirname "$manifest")"
    touch "$manifest"
    put "$here/Liner Notes.clap" "$HOME/.clap/Liner Notes.clap"
    put "$here/Liner Notes.vst3" "$HOME/.vst3/Liner Notes.vst3"
    put "$here/bin/liner" "$bin_dir/liner"
    chmod 755 "$bin_dir/liner"
    case ":$PATH:" in
        *":$bin_dir:"*) ;;
        *) note "add $bin_dir to your PATH to run liner by name" ;;
    esac
}

install_service() {
    mkdir -p "$unit_dir"
    cat > "$unit" <<UNIT
[Unit]
Description=Liner Notes record server
After=network.target

[Service]
ExecStart=$bin_dir/liner serve --listen ${LINER_LISTEN:-127.0.0.1:7878} --configure-local-plugin
Restart=on-failure

[Install]
WantedBy=default.target
UNIT
    installed "$unit"
    note "installed $unit"
    if has_systemd; then
        systemctl --user daemon-reload
        systemctl --user enable --now liner-notes.service
        sleep 2
        note "The record server runs. Its first run printed the review address and the tokens (shown once):"
        journalctl --user -u liner-notes.service -o cat --no-pager 2>/dev/null \
            | grep -E 'Review URL|token' | head -n 4 || true
    else
        note "No systemd user session here: start the server with"
        note "  $bin_dir/liner serve --listen ${LINER_LISTEN:-127.0.0.1:7878} --configure-local-plugin"
    fi
}

tidy() { sort -u -o "$manifest" "$manifest"; }

case "${1:-}" in
    --uninstall) uninstall ;;
    --service) install_files; install_service; tidy ;;
    "") install_files; tidy ;;
    *) note "usage: sh install.sh [--service | --uninstall]"; exit 2 ;;
esac
