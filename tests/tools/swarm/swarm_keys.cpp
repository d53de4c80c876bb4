#include "swarm/swarm_keys.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "tund/crypto/keys.hpp"

namespace tund::swarm {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void fail(const std::string& what) {
  throw std::runtime_error(what);
}

// A whole file at once with `mode` (a private key must never be readable by others, not
// even for a moment: the mode is set at creation and again if the file existed).
void write_file(const fs::path& path, const std::string& text, mode_t mode) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) fail("cannot write " + path.string() + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, mode) == 0 &&
            ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  int saved = errno;
  ok = (::close(fd) == 0) && ok;
  if (!ok) fail("cannot write " + path.string() + ": " + std::strerror(saved));
}

std::string client_name(std::size_t i, std::size_t count) {
  std::string digits = std::to_string(i + 1);
  std::size_t width = std::to_string(count).size();
  return "c" + std::string(width > digits.size() ? width - digits.size() : 0, '0') + digits;
}

std::string peer_file(const crypto::Key& public_key, const std::string& address,
                      const std::optional<std::string>& psk_file) {
  std::string text = "public-key = " + crypto::to_base64(public_key) + "\n";
  text += "allowed-ips = " + address + "/32\n";
  if (psk_file) text += "psk = " + *psk_file + "\n";
  return text;
}

unsigned parse_prefix_len(const std::string& text, const std::string& what) {
  if (text.empty() || text.size() > 2 || text.find_first_not_of("0123456789") != std::string::npos)
    fail(what + ": '" + text + "' is not a prefix length");
  unsigned len = static_cast<unsigned>(std::stoul(text));
  if (len > 32) fail(what + ": prefix length " + text + " is over 32");
  return len;
}

ClientEntry parse_line(const std::string& line, const std::string& where) {
  std::istringstream in(line);
  ClientEntry entry;
  std::string cidr;
  if (!(in >> entry.name >> cidr >> entry.key_file))
    fail(where + ": expected NAME ADDRESS/LEN KEYFILE");
  Ipv4Net net = parse_ipv4_net(cidr.substr(0, cidr.find('/')) + "/32", where);
  entry.address = host_address(net, 0);
  entry.prefix_len = cidr.find('/') == std::string::npos
                         ? 32
                         : parse_prefix_len(cidr.substr(cidr.find('/') + 1), where);
  return entry;
}

}  // namespace

Ipv4Net parse_ipv4_net(const std::string& text, const std::string& what) {
  auto slash = text.find('/');
  if (slash == std::string::npos) fail(what + ": '" + text + "' is not ADDRESS/LEN");
  auto address = link::parse_ipv4(text.substr(0, slash));
  if (!address) fail(what + ": '" + text.substr(0, slash) + "' is not an IPv4 address");
  Ipv4Net net;
  net.prefix_len = parse_prefix_len(text.substr(slash + 1), what);
  for (std::uint8_t b : *address) net.network = (net.network << 8) | b;
  std::uint32_t mask = net.prefix_len == 0 ? 0 : ~std::uint32_t{0} << (32 - net.prefix_len);
  net.network &= mask;
  return net;
}

link::Ipv4 host_address(const Ipv4Net& net, std::uint64_t host) {
  std::uint64_t size = std::uint64_t{1} << (32 - net.prefix_len);
  // A /32 is one host (number 0); otherwise the last number is the broadcast address.
  if (net.prefix_len < 32 ? host >= size - 1 : host != 0)
    fail("the network has no host number " + std::to_string(host) + " (too many clients?)");
  auto value = static_cast<std::uint32_t>(net.network + host);
  return {static_cast<std::uint8_t>(value >> 24), static_cast<std::uint8_t>(value >> 16),
          static_cast<std::uint8_t>(value >> 8), static_cast<std::uint8_t>(value)};
}

std::string to_string(const link::Ipv4& a) {
  return std::to_string(a[0]) + "." + std::to_string(a[1]) + "." + std::to_string(a[2]) + "." +
         std::to_string(a[3]);
}

void write_swarm_keys(const std::string& dir, std::size_t count, const Ipv4Net& net,
                      const std::optional<std::string>& psk_file) {
  host_address(net, count + 1);  // the last client's address exists, or nothing is written
  fs::path root(dir);
  std::error_code ec;
  for (const char* sub : {"peers", "keys"}) {
    fs::create_directories(root / sub, ec);
    if (ec) fail("cannot create " + (root / sub).string() + ": " + ec.message());
  }
  std::string list;
  for (std::size_t i = 0; i < count; ++i) {
    std::string name = client_name(i, count);
    std::string address = to_string(host_address(net, i + 2));
    crypto::Key private_key = crypto::random_private_key();
    fs::path key_file = fs::absolute(root / "keys" / (name + ".key"));
    write_file(key_file, crypto::to_base64(private_key) + "\n", 0600);
    write_file(root / "peers" / name,
               peer_file(crypto::x25519_public(private_key), address, psk_file), 0644);
    list += name + " " + address + "/" + std::to_string(net.prefix_len) + " " + key_file.string() +
            "\n";
  }
  write_file(root / "clients.list", list, 0644);
}

std::vector<ClientEntry> read_client_list(const std::string& dir) {
  fs::path path = fs::path(dir) / "clients.list";
  std::ifstream in(path);
  if (!in) fail("cannot read " + path.string() + " (run `tund_swarm keys` first)");
  std::vector<ClientEntry> entries;
  std::string line;
  for (std::size_t number = 1; std::getline(in, line); ++number) {
    if (line.empty() || line[0] == '#') continue;
    entries.push_back(parse_line(line, path.string() + " line " + std::to_string(number)));
  }
  return entries;
}

}  // namespace tund::swarm
