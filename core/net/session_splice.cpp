// The zero-copy relay: once a session relays a plain byte stream and nothing
// is queued in user space, each direction moves socket → pipe → socket with
// splice(2), so the payload never enters the process (the copy relay in
// session.cpp reads into a buffer and writes it out: two copies per byte,
// which was a third of braid's CPU on loopback).
//
// libuv has no splice, so the two sockets leave their uv_tcp_t read/write
// machinery (kept as handles for close and getsockname) and are watched by a
// uv_poll_t each. That is only safe when libuv watches neither fd any more:
// the switch happens on the next loop turn after the write queues emptied,
// and a failure to take over the fds leaves the copy relay running.
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <tuple>
#include <utility>
#include <vector>

#include "net/errors.hpp"
#include "net/session.hpp"

namespace braid::net {

namespace {

// Bytes asked of one splice(); the pipe holds what the destination could not
// take yet, so this is also the per-direction buffer of the zero-copy relay.
constexpr size_t kPipeBytes = 256 * 1024;
// Splice calls per direction per wake-up before other sessions get the loop.
constexpr int kRoundsPerWake = 16;
constexpr uint64_t kSampleEvery = 1 << 20;

// Empty pipes kept for the next burst of any session on this thread: a
// session holds a pipe only while bytes are in flight, so idle sessions cost
// no descriptors and busy ones do not create a pipe per burst.
constexpr size_t kSparePipes = 64;
struct SparePipes : std::vector<std::pair<int, int>> {
  ~SparePipes() {
    for (auto [r, w] : *this) {
      ::close(r);
      ::close(w);
    }
  }
};
thread_local SparePipes spare_pipes;

bool take_pipe(int& r, int& w) {
  if (!spare_pipes.empty()) {
    std::tie(r, w) = spare_pipes.back();
    spare_pipes.pop_back();
    return true;
  }
  int fds[2];
  if (::pipe2(fds, O_NONBLOCK | O_CLOEXEC) != 0) return false;
  r = fds[0];
  w = fds[1];
  // A bigger pipe means fewer calls; when the user's pipe budget is spent
  // the kernel refuses, and the default size still works.
  (void)::fcntl(w, F_SETPIPE_SZ, static_cast<int>(kPipeBytes));
  return true;
}

/// @p empty: nothing is left in the pipe, so another session may use it.
void give_back_pipe(int& r, int& w, bool empty) {
  if (r < 0) return;
  if (empty && spare_pipes.size() < kSparePipes) {
    spare_pipes.emplace_back(r, w);
  } else {
    ::close(r);
    ::close(w);
  }
  r = w = -1;
}

int fd_of(uv_tcp_t* h) {
  uv_os_fd_t fd = -1;
  if (!h || uv_fileno(reinterpret_cast<uv_handle_t*>(h), &fd) != 0) return -1;
  return fd;
}

}  // namespace

struct Session::Pump {
  int pipe_r = -1, pipe_w = -1;
  size_t pending = 0;      ///< bytes in the pipe, not yet given to the destination
  bool src_eof = false;
  bool done = false;       ///< the destination's write side is shut down
  bool want_read = true;   ///< waiting for the source to become readable
  bool want_write = false; ///< waiting for the destination to become writable
};

void Session::maybe_start_splice() {
  if (splicing_ || !limits_.zero_copy || has_tls() || closing_ || finishing_ || !relaying_ || manual_ ||
      hold_upstream_ || down_eof_ || up_eof_ || !up_ || !down_)
    return;
  if (upstream_queued() != 0 || downstream_queued() != 0) return;
  // libuv may still watch the sockets for the write just finished: switch on
  // the next loop turn, when it has let go of them.
  if (!splice_timer_) splice_timer_ = new_timer();
  if (uv_is_active(reinterpret_cast<uv_handle_t*>(splice_timer_))) return;
  uv_timer_start(
      splice_timer_, [](uv_timer_t* t) { static_cast<Session*>(t->data)->start_splice(); }, 0, 0);
}

void Session::start_splice() {
  // has_tls() again: the switch must never put a TLS side's ciphertext on
  // the wire as if it were the stream (or the stream as ciphertext).
  if (splicing_ || !limits_.zero_copy || has_tls() || closing_ || finishing_ || !relaying_ || hold_upstream_ || down_eof_ ||
      up_eof_ || upstream_queued() != 0 || downstream_queued() != 0)
    return;  // the copy relay carries on; a later write completion asks again
  const int fds[2] = {fd_of(down_), fd_of(up_)};
  if (fds[0] < 0 || fds[1] < 0) return;
  uv_read_stop(reinterpret_cast<uv_stream_t*>(down_));
  uv_read_stop(reinterpret_cast<uv_stream_t*>(up_));
  uv_poll_t* polls[2] = {};
  int rc = 0;
  for (int i = 0; i < 2 && rc == 0; ++i) {
    auto* p = new uv_poll_t;
    rc = uv_poll_init(loop_, p, fds[i]);
    if (rc < 0) {
      delete p;
      break;
    }
    p->data = this;
    ++refs_;
    polls[i] = p;
  }
  polls_[0] = polls[0];
  polls_[1] = polls[1];
  if (rc < 0) {
    // libuv still holds one of the sockets: keep copying.
    BRAID_LOG(debug, "[s%llu] zero-copy relay not started: %s", static_cast<unsigned long long>(id_),
              describe_error(rc).c_str());
    for (auto*& p : polls_) {
      close_handle(reinterpret_cast<uv_handle_t*>(p));
      p = nullptr;
    }
    down_paused_ = up_paused_ = false;
    read_upstream();
    if (closing_) return;
    rc = uv_read_start(reinterpret_cast<uv_stream_t*>(down_), alloc_cb, read_cb);
    if (rc < 0 && rc != UV_EALREADY) close("cannot read from the client: " + describe_error(rc));
    return;
  }
  splicing_ = true;
  down_paused_ = up_paused_ = false;
  pumps_ = new Pump[2];
  BRAID_LOG(debug, "[s%llu] zero-copy relay", static_cast<unsigned long long>(id_));
  splice_run(0);
  if (!closing_) splice_run(1);
  if (!closing_) splice_watch();
}

void Session::splice_run(int dir) {
  Pump& p = pumps_[dir];
  const int src = fd_of(dir == 0 ? down_ : up_);
  const int dst = fd_of(dir == 0 ? up_ : down_);
  const char* src_name = dir == 0 ? "client" : "upstream";
  const char* dst_name = dir == 0 ? "upstream" : "client";
  for (int round = 0; round < kRoundsPerWake && !p.done; ++round) {
    if (p.pending > 0) {
      const ssize_t n = ::splice(p.pipe_r, nullptr, dst, nullptr, p.pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
      if (n > 0) {
        p.pending -= static_cast<size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && errno == EAGAIN) {
        // The destination is full: stop reading the source until it drains
        // (the pipe is this direction's buffer).
        p.want_write = true;
        p.want_read = false;
        return;
      }
      close(std::string("writing to the ") + dst_name + " failed: " + describe_error(-errno));
      return;
    }
    p.want_write = false;
    if (p.src_eof) {
      give_back_pipe(p.pipe_r, p.pipe_w, true);
      // Half-close (STYLE.md rule 4): everything is written, pass the FIN on.
      p.done = true;
      p.want_read = false;
      if (::shutdown(dst, SHUT_WR) != 0 && errno != ENOTCONN) {
        close("half-close failed: " + describe_error(-errno));
        return;
      }
      ++shutdowns_done_;
      maybe_finish_relay();
      return;
    }
    if (p.pipe_r < 0 && !take_pipe(p.pipe_r, p.pipe_w)) {
      close("cannot create a pipe for the relay: " + describe_error(-errno));
      return;
    }
    const ssize_t n = ::splice(src, nullptr, p.pipe_w, nullptr, kPipeBytes, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
    if (n > 0) {
      p.pending = static_cast<size_t>(n);
      last_activity_ = uv_now(loop_);
      const uint64_t before = bytes_up_ + bytes_down_;
      (dir == 0 ? bytes_up_ : bytes_down_) += static_cast<uint64_t>(n);
      if ((before / kSampleEvery) != ((bytes_up_ + bytes_down_) / kSampleEvery)) sample_upstream_subflows();
      continue;
    }
    if (n == 0) {
      p.src_eof = true;
      (dir == 0 ? down_eof_ : up_eof_) = true;
      if (dir == 1) sample_upstream_subflows();
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {
      // Nothing to move: the (empty) pipe goes back for whoever needs one.
      give_back_pipe(p.pipe_r, p.pipe_w, true);
      p.want_read = true;
      return;
    }
    close(std::string(src_name) + " connection failed: " + describe_error(-errno));
    return;
  }
  // Out of turns with work left: stay interested in both, the level-triggered
  // poll calls again after other sessions had their turn.
  if (!p.done) {
    p.want_read = p.pending == 0;
    p.want_write = p.pending > 0;
  }
}

void Session::splice_watch() {
  // Socket i is the source of pump i and the destination of pump 1 - i.
  for (int i = 0; i < 2; ++i) {
    int events = 0;
    if (pumps_[i].want_read && !pumps_[i].done) events |= UV_READABLE;
    if (pumps_[1 - i].want_write && !pumps_[1 - i].done) events |= UV_WRITABLE;
    if (events == 0) {
      uv_poll_stop(polls_[i]);
      continue;
    }
    int rc = uv_poll_start(polls_[i], events, [](uv_poll_t* h, int status, int ev) {
      auto* s = static_cast<Session*>(h->data);
      if (s->closing_) return;
      const int side = h == s->polls_[0] ? 0 : 1;
      if (status < 0) {
        // libuv reports POLLERR as UV_EBADF; the socket knows the real cause.
        int err = 0;
        socklen_t len = sizeof err;
        if (getsockopt(fd_of(side == 0 ? s->down_ : s->up_), SOL_SOCKET, SO_ERROR, &err, &len) == 0 && err != 0)
          status = -err;
        s->close(std::string(side == 0 ? "client" : "upstream") + " connection failed: " + describe_error(status));
        return;
      }
      if (ev & UV_READABLE) s->splice_run(side);
      if (!s->closing_ && (ev & UV_WRITABLE)) s->splice_run(1 - side);
      if (!s->closing_) s->splice_watch();
    });
    if (rc < 0) {
      close("cannot watch the sockets: " + describe_error(rc));
      return;
    }
  }
}

void Session::stop_splice() {
  for (auto*& p : polls_) {
    close_handle(reinterpret_cast<uv_handle_t*>(p));
    p = nullptr;
  }
  if (pumps_) {
    for (int i = 0; i < 2; ++i) give_back_pipe(pumps_[i].pipe_r, pumps_[i].pipe_w, pumps_[i].pending == 0);
    delete[] pumps_;
    pumps_ = nullptr;
  }
}

}  // namespace braid::net
