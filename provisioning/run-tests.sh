#!/usr/bin/env bash
# Runs every test of the package, already built (`swift build --build-tests`), in six passes, and
# fails when any pass fails (every pass runs, so one failure does not hide another):
#   1. everything but the real-time calls, in parallel: each is quick and waits for events, not time;
#   2. the real-time calls, with the silence guarantee: callers speak and listen at Twilio's pace and
#      the caller's wait is measured against the 1.5 s budget, so they must not share two cores with
#      three hundred other tests;
#   3. the carried-out-once calls, twenty callers at once among them, which would crowd pass 2;
#   4. the listening benchmark on its corpus: a few seconds of both cores, which would crowd the
#      others, and its corpus is espeak-ng's whose voice state other tests' speech must not touch;
#   5. the suites that must not share the machine with many others: the local recognizer on espeak-ng
#      speech in several voices (two corpora spoken at once would mix their voices), and the systemd
#      watchdog, whose pings follow a health probe answered within 100 ms (in pass 1, three hundred
#      tests sometimes held both cooperative threads longer, and no ping came for 10 s);
#   6. the suites that meet the product's own time limits against stand-ins in this process (a
#      phrase fetch's 1.2 s when warming voices or installing, the doctor's and the fallback chain's
#      few seconds, headquarters' request and statement deadlines): in pass 1 a test that blocks a
#      cooperative thread for seconds (a child process waited for) can make a stand-in answer late.
# A new suite that places calls through `CallTestRig` belongs in REAL_TIME_CALLS below (or in
# CROWD_CALLS when it places many at once); left out, it runs in pass 1 and may wait too long there.
# Arguments are passed to every `swift test`.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

SWIFT=${SWIFT:-swift}
REAL_TIME_CALLS='EdgeAgentTests\.(EndToEndCallTests|RecordingTests|SilenceGuaranteeTests|KeypadRecoveryTests|KeypadMenuTests|StaffPageBrowserTests|TracedCallTests|FrustratedCallerTests|LocalConversationTests|TextConsentCallTests)/'
CROWD_CALLS='EdgeAgentTests\.OneRequestOnceTests/'
BENCHMARKS='EdgeAgentTests\.ListeningBenchmarkTests/'
ALONE='(LocalSpeechTests\.LocalRecognizerTests|EdgeAgentTests\.SystemdNotifierTests)/'
PRODUCT_TIME_LIMITS='(EdgeAgentTests\.(VoiceChoiceTests|DoctorNetworkTests|FallbackChainTests)|EdgeHQTests\.(InstallScriptTests|RequestDeadlineTests|ConnectionLossTests))/'

failed=()
pass() {
    local name=$1
    shift
    echo "== tests: $name"
    local started=$SECONDS
    if "$SWIFT" test --skip-build "$@"; then
        echo "== tests: $name passed in $((SECONDS - started)) s"
    else
        echo "== tests: $name FAILED after $((SECONDS - started)) s"
        failed+=("$name")
    fi
}

pass "everything but real-time calls" --skip "$REAL_TIME_CALLS" --skip "$CROWD_CALLS" --skip "$BENCHMARKS" \
    --skip "$ALONE" --skip "$PRODUCT_TIME_LIMITS" "$@"
pass "real-time calls" --filter "$REAL_TIME_CALLS" "$@"
pass "many calls at once" --filter "$CROWD_CALLS" "$@"
pass "listening benchmark" --filter "$BENCHMARKS" "$@"
pass "local recognition and the systemd watchdog, alone" --filter "$ALONE" "$@"
pass "the product's own time limits against stand-ins" --filter "$PRODUCT_TIME_LIMITS" "$@"

if [[ ${#failed[@]} -gt 0 ]]; then
    echo "== tests failed in: ${failed[*]}" >&2
    exit 1
fi
echo "== every test passed"
