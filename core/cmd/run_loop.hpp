// Runs a server object on a libuv loop until SIGINT or SIGTERM, then stops it
// and closes every handle so the loop ends cleanly.
#pragma once

#include <csignal>
#include <functional>

#include <uv.h>

#include "net/log.hpp"

namespace braid::cmd {

/// @p stop receives a "done" callback to call once everything is closed.
/// @p on_hup, when given, runs on each SIGHUP (reload) instead of stopping.
inline int run_until_signal(uv_loop_t* loop, std::function<void(std::function<void()>)> stop,
                            std::function<void()> on_hup = {}) {
  std::signal(SIGPIPE, SIG_IGN);
  struct Signals {
    uv_signal_t sigint, sigterm, sighup;
    std::function<void()> on_hup;
    std::function<void(std::function<void()>)> stop;
    bool stopping = false;
  } sig;
  sig.stop = std::move(stop);
  sig.on_hup = std::move(on_hup);
  auto on_signal = [](uv_signal_t* h, int signum) {
    auto* s = static_cast<Signals*>(h->data);
    if (s->stopping) return;
    s->stopping = true;
    BRAID_LOG(info, "received %s, shutting down", signum == SIGINT ? "SIGINT" : "SIGTERM");
    uv_close(reinterpret_cast<uv_handle_t*>(&s->sigint), nullptr);
    uv_close(reinterpret_cast<uv_handle_t*>(&s->sigterm), nullptr);
    if (s->on_hup) uv_close(reinterpret_cast<uv_handle_t*>(&s->sighup), nullptr);
    s->stop([] {});
  };
  for (auto* h : {&sig.sigint, &sig.sigterm}) {
    uv_signal_init(loop, h);
    h->data = &sig;
  }
  uv_signal_start(&sig.sigint, on_signal, SIGINT);
  uv_signal_start(&sig.sigterm, on_signal, SIGTERM);
  if (sig.on_hup) {
    uv_signal_init(loop, &sig.sighup);
    sig.sighup.data = &sig;
    uv_signal_start(
        &sig.sighup, [](uv_signal_t* h, int) { static_cast<Signals*>(h->data)->on_hup(); }, SIGHUP);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  return uv_loop_close(loop) == 0 ? 0 : 1;
}

}  // namespace braid::cmd
