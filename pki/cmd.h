/*
 * The subcommands of squirrel-pki. Each handler gets argv starting at its own name
 * (argv[0] == "key", ...), parses its options, reads files, calls the pki library, writes
 * the result, prints one line, and returns the process exit code (see squirrel-pki(1)).
 */
#ifndef SQUIRREL_CMD_H
#define SQUIRREL_CMD_H

/* cmd_x509.c: keys, certificates and CSRs */
int cmd_key(int argc, char **argv);
int cmd_ca(int argc, char **argv);
int cmd_csr(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_verify(int argc, char **argv);

/* cmd_fernet.c */
int cmd_fernet_key(int argc, char **argv);

/* cmd_teach.c: the tutorial's teaching toys */
int cmd_caesar(int argc, char **argv);
int cmd_dh_demo(int argc, char **argv);

#endif
