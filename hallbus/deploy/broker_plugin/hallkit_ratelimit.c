/*
 * hallkit_ratelimit: per-login PUBLISH budgets for the hall's Mosquitto (issue 17).
 *
 * The controller sheds a flooding node's requests itself (hallbus/admission.py), but only
 * after the broker has forwarded every one of them to it: a tablet or a terminal sending at
 * full speed still costs the controller's connection and CPU thousands of messages a
 * second. This plugin drops a login's excess at the broker, before the message is routed
 * to any subscriber.
 *
 * Each login (username: client ids are bound to usernames by `use_username_as_clientid`)
 * has two token buckets, PUBLISH messages and bytes (payload + topic), refilled at a rate
 * per second up to a burst. The numbers come from `plugin_opt_*` lines that
 * `hallbus broker-config` writes from hall.toml's [broker_limits]:
 *
 *   plugin_opt_budget_NAME  MSGS_PER_S MSGS_BURST BYTES_PER_S BYTES_BURST   (a rate of 0: no limit)
 *   plugin_opt_login_USER   NAME          (the budget of that login; one line per login)
 *   plugin_opt_default      NAME          (the budget of a login not listed; required)
 *   plugin_opt_disconnect_over  FACTOR    (0: never; see below)
 *   plugin_opt_log_every_s  SECONDS       (a log line per login over budget at most this often)
 *
 * A publish over budget is refused with MOSQ_ERR_ACL_DENIED, which Mosquitto 2.0 handles
 * like an ACL denial (src/handle_publish.c, `process_bad_message`): the message is freed
 * without being stored, retained or routed; QoS 0 is dropped silently, QoS 1 gets a PUBACK
 * (reason 0x87 "not authorised" to an MQTT 5 client), QoS 2 a PUBREC with that reason. The
 * connection stays up. A login that stays far over its budget is disconnected instead: when
 * the messages (or bytes) it had refused, less what its rate has forgiven since, come to more
 * than FACTOR times its burst, each further publish refused ends its connection (any error
 * code but MOSQ_ERR_ACL_DENIED does; MOSQ_ERR_ADMINISTRATIVE_ACTION logs "disconnected by
 * administrative action"), so a flood costs it a reconnect every few messages. A login back
 * within its budget is never disconnected, whatever its debt.
 *
 * Reconnect storms. A login that connects in a loop publishes nothing for the budgets to
 * count, yet costs the broker a TCP handshake, a password check and a session (subscriptions,
 * retained messages, a will) each time. Counting connection attempts per username would let
 * anyone who knows a username lock its node out with wrong passwords, so the plugin counts
 * what only the holder of the password can cause: ends of *authenticated* sessions. Client
 * ids are bound to usernames, so each new session of a login ends its previous one
 * (src/handle_connect.c, `connect__on_authorised`: the old context is set to
 * mosq_cs_duplicate and `do_disconnect`ed), and every session's end, taken over or closed,
 * fires MOSQ_EVT_DISCONNECT (src/context.c, `context__disconnect` calls
 * `plugin__handle_disconnect`). A refused login fires it too, with the username it claimed,
 * but `handle__connect` frees the client id of a login the password check refused before
 * it disconnects it; so an event whose client has no id (`mosquitto_client_id` NULL) is not
 * counted, and a wrong password never counts. When more than storm_ends_per_s sessions of
 * one login end within one second, its new connections are refused for storm_block_s,
 * doubled each time it storms again within storm_block_max_s of its last refusal ending
 * (up to storm_block_max_s):
 *
 *   plugin_opt_storm_ends_per_s  N          (0: no storm limit)
 *   plugin_opt_storm_block_s     SECONDS    (the first refusal)
 *   plugin_opt_storm_block_max_s SECONDS    (the longest)
 *
 * The refusal is made in MOSQ_EVT_BASIC_AUTH, which the broker asks before its own
 * password_file check: plugins are loaded and register their callbacks
 * (`mosquitto_security_module_init`, src/security.c) before `mosquitto_security_init_default`
 * (src/security_default.c) appends the password-file check to the same list, and
 * `mosquitto_unpwd_check` takes the first answer that is not MOSQ_ERR_PLUGIN_DEFER. So a
 * refused connection costs no password hash and no session: the broker answers CONNACK
 * "not authorised" and closes it. Every other login, and the storming login's publishes
 * while connected, are untouched; the controller's login (no budget) is never refused.
 *
 * Mosquitto 2.0 plugin interface, version 5 (tested on Debian 12's 2.0.11). The broker
 * calls the MOSQ_EVT_MESSAGE callback from handle__publish after the ACL check and before
 * the message is stored and queued to subscribers; everything here runs on the broker's
 * one thread.
 *
 * Build (./hall setup does it): gcc -O2 -fPIC -shared -o hallkit_ratelimit.so hallkit_ratelimit.c
 * with the headers of Debian's mosquitto-dev and libmosquitto-dev.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#if MOSQ_PLUGIN_VERSION != 5
#error "hallkit_ratelimit is written for the Mosquitto 2.0 plugin interface, version 5"
#endif

#define PLUGIN_API 5
#define MAX_BUDGETS 16
#define NAME_LEN 32
#define SLOTS 4096 /* power of two; logins are only those in the password file (a few dozen) */
#define MAX_LOGINS (SLOTS * 3 / 4)

struct budget {
	char name[NAME_LEN];
	double msgs_per_s, msgs_burst, bytes_per_s, bytes_burst;
};

struct login {
	char *user; /* NULL: a free slot */
	const struct budget *budget;
	double at; /* when the buckets were last refilled */
	double msgs, bytes; /* tokens left */
	double debt_msgs, debt_bytes; /* refused messages and bytes not yet forgiven (drain at their rates) */
	double logged_at; /* when its last log line was written */
	double since; /* when the first drop not logged yet happened */
	unsigned long dropped, dropped_bytes, kicked; /* not logged yet */
	double ends_since; /* when the current second of counting session ends began */
	double ends; /* authenticated sessions ended since ends_since */
	double refused_until; /* new connections refused until then (a storm) */
	double block_s; /* the last refusal's length; 0: not storming lately */
	unsigned long refused; /* connections refused, not logged yet */
};

struct state {
	mosquitto_plugin_id_t *pid;
	struct budget budgets[MAX_BUDGETS];
	int budget_count;
	const struct budget *fallback; /* plugin_opt_default */
	double disconnect_over;
	double log_every_s;
	double scanned_at; /* the tick's last look for drops not logged yet */
	double storm_ends_per_s, storm_block_s, storm_block_max_s; /* 0 ends: no storm limit */
	struct login *slots;
	int logins;
	struct login overflow; /* shared by logins past MAX_LOGINS (never in a real hall) */
};

static struct state st;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for(; *s; s++){
		h = (h ^ (uint8_t)*s) * 16777619u;
	}
	return h;
}

static const struct budget *budget_named(const char *name)
{
	for(int i = 0; i < st.budget_count; i++){
		if(!strcmp(st.budgets[i].name, name)) return &st.budgets[i];
	}
	return NULL;
}

static void fill(struct login *l, const struct budget *b, double now)
{
	l->budget = b;
	l->at = now;
	l->msgs = b->msgs_burst;
	l->bytes = b->bytes_burst;
	l->logged_at = now - 1e9;
}

/* The entry of a login seen before, or NULL (never made here: a CONNECT may claim any username). */
static struct login *login_seen(const char *user)
{
	uint32_t i = hash(user) & (SLOTS - 1);
	while(st.slots[i].user){
		if(!strcmp(st.slots[i].user, user)) return &st.slots[i];
		i = (i + 1) & (SLOTS - 1);
	}
	return NULL;
}

/* The login's entry, made (with `budget`, or the default) on first sight. */
static struct login *login_of(const char *user, const struct budget *budget, double now)
{
	uint32_t i = hash(user) & (SLOTS - 1);
	while(st.slots[i].user){
		if(!strcmp(st.slots[i].user, user)) return &st.slots[i];
		i = (i + 1) & (SLOTS - 1);
	}
	if(st.logins >= MAX_LOGINS) return &st.overflow;
	st.slots[i].user = mosquitto_strdup(user);
	if(!st.slots[i].user) return &st.overflow;
	st.logins++;
	fill(&st.slots[i], budget ? budget : st.fallback, now);
	return &st.slots[i];
}

static void say(struct login *l, double now)
{
	const struct budget *b = l->budget;
	const char *who = l->user ? l->user : "(others)";
	double span = now - l->since;
	mosquitto_log_printf(MOSQ_LOG_WARNING,
		"hallkit_ratelimit: 登录 %s 超出发布预算 (%s: 每秒 %.0f 条, %.0f 字节): %.0f 秒内丢弃 %lu 条 (%lu 字节), 断开 %lu 次. "
		"Login %s is over its publish budget (%s: %.0f messages, %.0f bytes a second): dropped %lu messages "
		"(%lu bytes) and disconnected it %lu times in %.0f s.",
		who, b->name, b->msgs_per_s, b->bytes_per_s, span, l->dropped, l->dropped_bytes, l->kicked,
		who, b->name, b->msgs_per_s, b->bytes_per_s, l->dropped, l->dropped_bytes, l->kicked, span);
	l->dropped = l->dropped_bytes = l->kicked = 0;
	l->logged_at = now;
}

/* Refill one bucket for `dt` seconds and forgive as much of its debt; whether `cost` is over what is left. */
static int take(double *tokens, double *debt, double dt, double rate, double burst, double cost)
{
	*tokens += dt * rate;
	if(*tokens > burst) *tokens = burst;
	*debt -= dt * rate;
	if(*debt < 0) *debt = 0;
	return *tokens < cost;
}

/* Add a refused `cost` to a debt (kept under twice the limit, so it drains in bounded time);
 * whether the debt is past disconnect_over bursts. */
static int owe(double *debt, double cost, double burst)
{
	double limit = st.disconnect_over * burst;
	*debt += cost;
	if(*debt > 2 * limit) *debt = 2 * limit;
	return st.disconnect_over > 0 && *debt > limit;
}

static int on_message(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_message *ed = event_data;
	(void)event;
	(void)userdata;

	const char *user = mosquitto_client_username(ed->client);
	double now = now_s();
	struct login *l = login_of(user ? user : "", NULL, now);
	const struct budget *b = l->budget;
	if(b->msgs_per_s <= 0 && b->bytes_per_s <= 0) return MOSQ_ERR_SUCCESS; /* unlimited (the controller) */

	double dt = now - l->at;
	l->at = now;
	double size = (double)ed->payloadlen + (ed->topic ? (double)strlen(ed->topic) : 0.0);
	int over = 0, kick = 0;
	if(b->msgs_per_s > 0){
		over |= take(&l->msgs, &l->debt_msgs, dt, b->msgs_per_s, b->msgs_burst, 1.0);
	}
	if(b->bytes_per_s > 0){
		over |= take(&l->bytes, &l->debt_bytes, dt, b->bytes_per_s, b->bytes_burst, size);
	}
	if(!over){
		if(b->msgs_per_s > 0) l->msgs -= 1.0;
		if(b->bytes_per_s > 0) l->bytes -= size;
		return MOSQ_ERR_SUCCESS;
	}
	if(!l->dropped) l->since = now;
	l->dropped++;
	l->dropped_bytes += (unsigned long)size;
	if(b->msgs_per_s > 0) kick |= owe(&l->debt_msgs, 1.0, b->msgs_burst);
	if(b->bytes_per_s > 0) kick |= owe(&l->debt_bytes, size, b->bytes_burst);
	if(kick) l->kicked++;
	if(now - l->logged_at >= st.log_every_s) say(l, now);
	return kick ? MOSQ_ERR_ADMINISTRATIVE_ACTION : MOSQ_ERR_ACL_DENIED;
}

static int unlimited(const struct login *l)
{
	return l->budget->msgs_per_s <= 0 && l->budget->bytes_per_s <= 0;
}

static void say_refused(struct login *l, double now)
{
	const char *who = l->user ? l->user : "(others)";
	mosquitto_log_printf(MOSQ_LOG_WARNING,
		"hallkit_ratelimit: 登录 %s 反复重连 (每秒超过 %.0f 次会话结束), 其新连接被拒绝 %.0f 秒, 已拒绝 %lu 次. "
		"Login %s is reconnecting in a loop (more than %.0f sessions ended in a second): its new connections "
		"are refused for %.0f s; %lu refused since the last line.",
		who, st.storm_ends_per_s, l->block_s, l->refused,
		who, st.storm_ends_per_s, l->block_s, l->refused);
	l->refused = 0;
	l->logged_at = now;
}

/* Asked before the broker's password_file check: refuse a storming login's new connections. */
static int on_basic_auth(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_basic_auth *ed = event_data;
	(void)event;
	(void)userdata;
	if(!ed->username) return MOSQ_ERR_PLUGIN_DEFER;
	struct login *l = login_seen(ed->username);
	if(!l || !l->block_s) return MOSQ_ERR_PLUGIN_DEFER;
	double now = now_s();
	if(now >= l->refused_until) return MOSQ_ERR_PLUGIN_DEFER;
	l->refused++;
	if(now - l->logged_at >= st.log_every_s) say_refused(l, now);
	return MOSQ_ERR_AUTH;
}

/* Every session's end: count those of authenticated sessions per login (see the top). */
static int on_disconnect(int event, void *event_data, void *userdata)
{
	struct mosquitto_evt_disconnect *ed = event_data;
	(void)event;
	(void)userdata;
	const char *user = mosquitto_client_username(ed->client);
	if(!user || !mosquitto_client_id(ed->client)) return MOSQ_ERR_SUCCESS; /* never logged in */
	double now = now_s();
	struct login *l = login_of(user, NULL, now);
	if(l == &st.overflow || unlimited(l)) return MOSQ_ERR_SUCCESS;
	if(now - l->ends_since >= 1.0){
		l->ends_since = now;
		l->ends = 0;
	}
	l->ends++;
	if(l->ends <= st.storm_ends_per_s || now < l->refused_until) return MOSQ_ERR_SUCCESS;
	/* A storm: refuse for storm_block_s, or twice the last refusal if that ended less than
	 * storm_block_max_s ago. */
	if(l->block_s > 0 && now - l->refused_until < st.storm_block_max_s){
		l->block_s *= 2;
		if(l->block_s > st.storm_block_max_s) l->block_s = st.storm_block_max_s;
	}else{
		l->block_s = st.storm_block_s;
	}
	l->refused_until = now + l->block_s;
	l->ends = 0;
	say_refused(l, now);
	return MOSQ_ERR_SUCCESS;
}

/* Called at every turn of the broker's loop: once a second, log the drops not logged yet
 * of each login whose last line is log_every_s old. */
static int on_tick(int event, void *event_data, void *userdata)
{
	(void)event;
	(void)event_data;
	(void)userdata;
	double now = now_s();
	if(now - st.scanned_at < 1.0) return MOSQ_ERR_SUCCESS;
	st.scanned_at = now;
	for(int i = 0; i < SLOTS; i++){
		struct login *l = &st.slots[i];
		if(l->user && l->dropped && now - l->logged_at >= st.log_every_s) say(l, now);
		if(l->user && l->refused && now - l->logged_at >= st.log_every_s) say_refused(l, now);
	}
	if(st.overflow.dropped && now - st.overflow.logged_at >= st.log_every_s) say(&st.overflow, now);
	return MOSQ_ERR_SUCCESS;
}

static int bad_option(const char *key, const char *value, const char *why)
{
	mosquitto_log_printf(MOSQ_LOG_ERR,
		"hallkit_ratelimit: 配置项 plugin_opt_%s \"%s\" 无效: %s. The option plugin_opt_%s \"%s\" is not valid: %s.",
		key, value, why, key, value, why);
	return MOSQ_ERR_INVAL;
}

static int parse_number(const char *text, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(text, &end);
	if(errno || end == text || *end || v < 0) return 0;
	*out = v;
	return 1;
}

static int parse_budget(const char *name, const char *value)
{
	if(st.budget_count >= MAX_BUDGETS) return bad_option("budget_", name, "too many budgets");
	if(strlen(name) >= NAME_LEN || !*name) return bad_option("budget_", name, "the budget's name is empty or too long");
	if(budget_named(name)) return bad_option("budget_", name, "given twice");
	struct budget *b = &st.budgets[st.budget_count];
	char extra;
	if(sscanf(value, "%lf %lf %lf %lf %c", &b->msgs_per_s, &b->msgs_burst, &b->bytes_per_s, &b->bytes_burst, &extra) != 4
			|| b->msgs_per_s < 0 || b->msgs_burst < 0 || b->bytes_per_s < 0 || b->bytes_burst < 0){
		return bad_option("budget_", value, "want four numbers, 0 or more: messages/s, message burst, bytes/s, byte burst");
	}
	if((b->msgs_per_s > 0 && b->msgs_burst < 1) || (b->bytes_per_s > 0 && b->bytes_burst < 1)){
		return bad_option("budget_", value, "a burst must be 1 or more where its rate is set");
	}
	snprintf(b->name, NAME_LEN, "%s", name);
	st.budget_count++;
	return MOSQ_ERR_SUCCESS;
}

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions)
{
	for(int i = 0; i < supported_version_count; i++){
		if(supported_versions[i] == PLUGIN_API) return PLUGIN_API;
	}
	mosquitto_log_printf(MOSQ_LOG_ERR,
		"hallkit_ratelimit: 此 Mosquitto 不支持插件接口第 %d 版, 不能加载. "
		"This Mosquitto does not offer plugin interface version %d, which the plugin is written for: not loaded.",
		PLUGIN_API, PLUGIN_API);
	return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata, struct mosquitto_opt *opts, int opt_count)
{
	const char *fallback = NULL;
	int rc;
	(void)userdata;

	memset(&st, 0, sizeof(st));
	st.pid = identifier;
	st.log_every_s = 10.0;
	for(int i = 0; i < opt_count; i++){
		const char *k = opts[i].key, *v = opts[i].value;
		if(!strncmp(k, "budget_", 7)){
			if((rc = parse_budget(k + 7, v))) return rc;
		}else if(!strcmp(k, "default")){
			fallback = v;
		}else if(!strcmp(k, "disconnect_over")){
			if(!parse_number(v, &st.disconnect_over)) return bad_option(k, v, "want a number, 0 or more");
		}else if(!strcmp(k, "log_every_s")){
			if(!parse_number(v, &st.log_every_s)) return bad_option(k, v, "want a number of seconds");
		}else if(!strcmp(k, "storm_ends_per_s")){
			if(!parse_number(v, &st.storm_ends_per_s)) return bad_option(k, v, "want a number, 0 or more");
		}else if(!strcmp(k, "storm_block_s")){
			if(!parse_number(v, &st.storm_block_s)) return bad_option(k, v, "want a number of seconds");
		}else if(!strcmp(k, "storm_block_max_s")){
			if(!parse_number(v, &st.storm_block_max_s)) return bad_option(k, v, "want a number of seconds");
		}else if(strncmp(k, "login_", 6)){
			return bad_option(k, v, "unknown option");
		}
	}
	if(!fallback || !(st.fallback = budget_named(fallback))){
		return bad_option("default", fallback ? fallback : "", "name a budget_ given here");
	}
	if(st.storm_ends_per_s > 0 && (st.storm_block_s <= 0 || st.storm_block_max_s < st.storm_block_s)){
		return bad_option("storm_block_s", "", "with storm_ends_per_s set, want storm_block_s > 0 and storm_block_max_s at least that");
	}
	st.slots = mosquitto_calloc(SLOTS, sizeof(struct login));
	if(!st.slots) return MOSQ_ERR_NOMEM;
	double now = now_s();
	fill(&st.overflow, st.fallback, now);
	for(int i = 0; i < opt_count; i++){
		const char *k = opts[i].key, *v = opts[i].value;
		if(strncmp(k, "login_", 6)) continue;
		const struct budget *b = budget_named(v);
		if(!b) return bad_option(k, v, "no budget_ of that name");
		struct login *l = login_of(k + 6, b, now);
		if(l == &st.overflow) return bad_option(k, v, "too many logins");
		fill(l, b, now); /* listed twice: the last line counts */
	}
	mosquitto_log_printf(MOSQ_LOG_NOTICE,
		"hallkit_ratelimit: plugin interface %d, %d budgets, %d logins listed, others on budget %s; "
		"reconnect storms: over %g session ends a second refuse for %g s, up to %g s.",
		PLUGIN_API, st.budget_count, st.logins, st.fallback->name,
		st.storm_ends_per_s, st.storm_block_s, st.storm_block_max_s);
	rc = mosquitto_callback_register(st.pid, MOSQ_EVT_MESSAGE, on_message, NULL, NULL);
	if(rc) return rc;
	if(st.storm_ends_per_s > 0){
		rc = mosquitto_callback_register(st.pid, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, NULL);
		if(rc) return rc;
		rc = mosquitto_callback_register(st.pid, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, NULL);
		if(rc) return rc;
	}
	return mosquitto_callback_register(st.pid, MOSQ_EVT_TICK, on_tick, NULL, NULL);
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *opts, int opt_count)
{
	(void)userdata;
	(void)opts;
	(void)opt_count;
	mosquitto_callback_unregister(st.pid, MOSQ_EVT_MESSAGE, on_message, NULL);
	mosquitto_callback_unregister(st.pid, MOSQ_EVT_TICK, on_tick, NULL);
	if(st.storm_ends_per_s > 0){
		mosquitto_callback_unregister(st.pid, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
		mosquitto_callback_unregister(st.pid, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
	}
	if(st.slots){
		for(int i = 0; i < SLOTS; i++) mosquitto_free(st.slots[i].user);
		mosquitto_free(st.slots);
	}
	memset(&st, 0, sizeof(st));
	return MOSQ_ERR_SUCCESS;
}
