package io.fleetvote.common.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/**
 * The options of one {@code ./fleetvote} subcommand: {@code --name value} pairs and {@code --flag}s,
 * a usage text for {@code --help}, and errors that name the option that was wrong.
 */
public final class CommandLine {

  private record Option(String name, String valueName, String help, String defaultValue) {
  }

  private final String command;
  private final String summary;
  private final Map<String, Option> options = new LinkedHashMap<>();

  public CommandLine(String command, String summary) {
    this.command = command;
    this.summary = summary;
    flag("help", "print this help and exit");
  }

  /** An option taking a value; a null default makes it required. */
  public CommandLine option(String name, String valueName, String help, String defaultValue) {
    options.put(name, new Option(name, valueName, help, defaultValue));
    return this;
  }

  /** An option without a value: present or not. */
  public CommandLine flag(String name, String help) {
    options.put(name, new Option(name, null, help, null));
    return this;
  }

  public String usage() {
    StringBuilder text = new StringBuilder("usage: fleetvote ").append(command).append(" [options]\n\n")
        .append(summary).append("\n\noptions:\n");
    for (Option option : options.values()) {
      String left = "  --" + option.name + (option.valueName == null ? "" : " " + option.valueName);
      text.append(String.format("%-28s %s", left, option.help));
      if (option.valueName != null) {
        text.append(option.defaultValue == null ? " (required)" : " (default: " + option.defaultValue + ")");
      }
      text.append('\n');
    }
    return text.toString();
  }

  /**
   * Parses {@code args} and reads them with {@code reader}; prints the usage and exits 0 on {@code --help},
   * prints what was wrong and exits 2 on a bad command line. For {@code main} methods.
   */
  public <T> T parseOrExit(String[] args, Function<Parsed, T> reader) {
    try {
      Parsed parsed = parse(args);
      if (parsed.helpRequested()) {
        System.out.print(usage());
        System.exit(0);
      }
      return reader.apply(parsed);
    } catch (IllegalArgumentException e) {
      System.err.println("fleetvote " + command + ": " + e.getMessage());
      System.err.println("run 'fleetvote " + command + " --help' for the options");
      System.exit(2);
      throw e;
    }
  }

  /** Parses {@code args}; throws {@link CommandLineException} for unknown, repeated or valueless options. */
  public Parsed parse(String... args) {
    Map<String, String> values = new LinkedHashMap<>();
    List<String> flags = new ArrayList<>();
    for (int i = 0; i < args.length; i++) {
      String arg = args[i];
      if (!arg.startsWith("--") || arg.length() == 2) {
        throw new CommandLineException("unexpected argument '" + arg + "'");
      }
      String name = arg.substring(2);
      String inlineValue = null;
      int eq = name.indexOf('=');
      if (eq > 0) {
        inlineValue = name.substring(eq + 1);
        name = name.substring(0, eq);
      }
      Option option = options.get(name);
      if (option == null) {
        throw new CommandLineException("unknown option --" + name);
      }
      if (values.containsKey(name) || flags.contains(name)) {
        throw new CommandLineException("option --" + name + " is given twice");
      }
      if (option.valueName == null) {
        if (inlineValue != null) {
          throw new CommandLineException("option --" + name + " takes no value");
        }
        flags.add(name);
      } else if (inlineValue != null) {
        values.put(name, inlineValue);
      } else if (i + 1 < args.length) {
        values.put(name, args[++i]);
      } else {
        throw new CommandLineException("option --" + name + " needs a value (" + option.valueName + ")");
      }
    }
    return new Parsed(values, flags);
  }

  /** The parsed options; typed getters fall back to the declared default and check ranges. */
  public final class Parsed {

    private final Map<String, String> values;
    private final List<String> flags;

    private Parsed(Map<String, String> values, List<String> flags) {
      this.values = values;
      this.flags = flags;
    }

    public boolean helpRequested() {
      return flags.contains("help");
    }

    public boolean flag(String name) {
      declared(name);
      return flags.contains(name);
    }

    /** True when the option was given on the command line (not defaulted). */
    public boolean given(String name) {
      declared(name);
      return values.containsKey(name);
    }

    public String string(String name) {
      Option option = declared(name);
      String value = values.getOrDefault(name, option.defaultValue);
      if (value == null) {
        throw new CommandLineException("option --" + name + " is required");
      }
      return value;
    }

    public long longValue(String name, long min, long max) {
      long value = number(name, Long::parseLong, "a whole number");
      if (value < min || value > max) {
        throw outOfRange(name, value, min, max);
      }
      return value;
    }

    public int intValue(String name, int min, int max) {
      return (int) longValue(name, min, max);
    }

    public double doubleValue(String name, double min, double max) {
      double value = number(name, Double::parseDouble, "a number");
      if (!(value >= min && value <= max)) {
        throw outOfRange(name, value, min, max);
      }
      return value;
    }

    private <T> T number(String name, Function<String, T> parser, String what) {
      String text = string(name);
      try {
        return parser.apply(text);
      } catch (NumberFormatException e) {
        throw new CommandLineException("option --" + name + ": '" + text + "' is not " + what);
      }
    }

    private CommandLineException outOfRange(String name, Object value, Object min, Object max) {
      return new CommandLineException("option --" + name + ": " + value + " is out of range [" + min + ", " + max
          + "]");
    }

    private Option declared(String name) {
      Option option = options.get(name);
      if (option == null) {
        throw new IllegalArgumentException("option --" + name + " is not declared for " + command);
      }
      return option;
    }
  }
}
