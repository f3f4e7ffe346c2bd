package io.fleetvote.common.process;

/**
 * One child process that ended: its pid, its exit code (128 + n when signal n ended it) and how long it ran.
 * {@code expected} is false for a crash, true for an exit while starting or stopping.
 */
public record ChildExit(long pid, int exitCode, long ranMs, boolean expected) {
}
