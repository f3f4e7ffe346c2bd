package io.fleetvote.coordinator.auth;

import io.fleetvote.common.auth.PasswordHash;
import io.fleetvote.common.cli.CommandLine;

import java.io.BufferedReader;
import java.io.Console;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;

/** {@code ./fleetvote hash-password}: reads one password (from the terminal without echo, or a line of stdin). */
public final class HashPassword {

  private HashPassword() {
  }

  public static void main(String[] args) throws IOException {
    int iterations = new CommandLine("hash-password", """
        Reads a password (typed without echo, or one line on stdin) and prints its hash for the "passwordHash" of a
        user in the coordinator's users file.""")
        .option("iterations", "N", "PBKDF2 iterations", Integer.toString(PasswordHash.DEFAULT_ITERATIONS))
        .parseOrExit(args, p -> p.intValue("iterations", PasswordHash.MIN_ITERATIONS, 10_000_000));
    Console console = System.console();
    String password;
    if (console != null) {
      char[] typed = console.readPassword("password: ");
      password = typed == null ? null : new String(typed);
    } else {
      password = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8)).readLine();
    }
    if (password == null || password.isEmpty()) {
      System.err.println("hash-password: no password given");
      System.exit(2);
    }
    System.out.println(PasswordHash.hash(password, iterations));
  }
}
