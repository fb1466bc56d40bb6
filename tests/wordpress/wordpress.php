<?php
/*
 * Runs Debian's WordPress (its /usr/share/wordpress core) from the command line for the tests in
 * this folder: php wordpress.php ACTION [ARG]. Settings come from the environment (SPEAKOUT_WP_*),
 * so nothing is written outside the test's own folder and database. Each action prints JSON.
 *
 *   install          wp_install() into the (empty) database
 *   load FILE        inserts the posts, users and comments of FILE (JSON made by the test from a
 *                    WXR file) with wp_insert_user / wp_insert_post / wp_insert_comment and
 *                    add_comment_meta, exactly as given: no id remapping beyond the ids this run
 *                    created, and a parent or user id not created yet is an error, not a guess
 *   render POST_ID   the post's title, content and excerpt through WordPress's display filters, and
 *                    its approved comments through wp_list_comments (threaded)
 *   comments         every comment row with its meta
 *   restore IDS      wp_untrash_comment / wp_unspam_comment on each id, then their statuses
 *   is_email FILE    is_email() for each address of FILE (a JSON list)
 *   export           export_wp(): WordPress's own WXR export of everything
 *   article FILE     one post from FILE (JSON: title, content) under the Twenty Twenty-Three theme;
 *                    prints its id
 *
 * Also a router for PHP's own web server (php -S HOST:PORT wordpress.php): files of the core and
 * of the content folder are sent as they are, every other address goes through WordPress's
 * front end (wp() and the template loader), as index.php would.
 */

error_reporting(E_ALL & ~E_DEPRECATED & ~E_NOTICE & ~E_WARNING);
ini_set("display_errors", "stderr");
$speakout_action = PHP_SAPI === 'cli-server' ? 'serve' : ($argv[1] ?? '');
$speakout_argument = $argv[2] ?? '';
if ($speakout_action === 'serve') {
    $speakout_path = rawurldecode(parse_url($_SERVER['REQUEST_URI'], PHP_URL_PATH));
    $speakout_file = str_starts_with($speakout_path, '/wp-content/')
        ? getenv('SPEAKOUT_WP_CONTENT_DIR') . substr($speakout_path, strlen('/wp-content'))
        : rtrim(getenv('SPEAKOUT_WP_CORE') ?: '/usr/share/wordpress', '/') . $speakout_path;
    $speakout_types = ['css' => 'text/css', 'js' => 'text/javascript', 'svg' => 'image/svg+xml',
        'woff2' => 'font/woff2', 'woff' => 'font/woff', 'png' => 'image/png', 'json' => 'application/json'];
    $speakout_extension = pathinfo($speakout_file, PATHINFO_EXTENSION);
    if (!str_contains($speakout_path, '..') && is_file($speakout_file) && isset($speakout_types[$speakout_extension])) {
        header('Content-Type: ' . $speakout_types[$speakout_extension]);
        readfile($speakout_file);
        return true;
    }
}

define('ABSPATH', rtrim(getenv('SPEAKOUT_WP_CORE') ?: '/usr/share/wordpress', '/') . '/');
define('DB_NAME', getenv('SPEAKOUT_WP_DB_NAME'));
define('DB_USER', getenv('SPEAKOUT_WP_DB_USER') ?: 'root');
define('DB_PASSWORD', getenv('SPEAKOUT_WP_DB_PASSWORD') ?: '');
define('DB_HOST', getenv('SPEAKOUT_WP_DB_HOST') ?: '127.0.0.1:3306');
define('DB_CHARSET', 'utf8mb4');
define('DB_COLLATE', '');
define('WP_CONTENT_DIR', getenv('SPEAKOUT_WP_CONTENT_DIR'));
define('WP_HOME', getenv('SPEAKOUT_WP_URL'));
define('WP_SITEURL', getenv('SPEAKOUT_WP_URL'));
define('WP_DEBUG', false);
define('DISABLE_WP_CRON', true);
define('WP_AUTO_UPDATE_CORE', false);
define('AUTOMATIC_UPDATER_DISABLED', true);
define('WP_HTTP_BLOCK_EXTERNAL', true);
foreach (['AUTH_KEY', 'SECURE_AUTH_KEY', 'LOGGED_IN_KEY', 'NONCE_KEY', 'AUTH_SALT', 'SECURE_AUTH_SALT', 'LOGGED_IN_SALT', 'NONCE_SALT'] as $key) {
    define($key, 'speakout-test-' . $key);
}
$table_prefix = 'wp_';
if ($speakout_action !== 'serve') {
    $_SERVER['HTTP_HOST'] = parse_url(WP_HOME, PHP_URL_HOST);
    $_SERVER['SERVER_NAME'] = $_SERVER['HTTP_HOST'];
    $_SERVER['REQUEST_URI'] = '/';
    $_SERVER['SERVER_PROTOCOL'] = 'HTTP/1.1';
}
// No mail leaves a test site (wp_mail is pluggable: ours is defined first).
function wp_mail($to, $subject, $message, $headers = '', $attachments = array()) {
    return false;
}
if ($speakout_action === 'install') {
    define('WP_INSTALLING', true);
}
define('WP_USE_THEMES', $speakout_action === 'serve');
require ABSPATH . 'wp-settings.php';

if ($speakout_action === 'serve') {
    wp();
    require ABSPATH . WPINC . '/template-loader.php';
    return true;
}

function out($value) {
    echo json_encode($value, JSON_UNESCAPED_UNICODE | JSON_UNESCAPED_SLASHES | JSON_PARTIAL_OUTPUT_ON_ERROR);
}

function fail($message) {
    fwrite(STDERR, $message . "\n");
    exit(2);
}

switch ($speakout_action) {
case 'article':
    $data = json_decode(file_get_contents($speakout_argument), true);
    switch_theme('twentytwentythree');
    if (get_stylesheet() !== 'twentytwentythree' || !wp_get_theme()->exists()) {
        fail('the twentytwentythree theme is missing from the content folder');
    }
    $id = wp_insert_post(['post_title' => $data['title'], 'post_content' => $data['content'],
        'post_status' => 'publish', 'post_author' => 1], true);
    if (is_wp_error($id)) {
        fail($id->get_error_message());
    }
    out(['id' => $id]);
    break;

case 'install':
    require_once ABSPATH . 'wp-admin/includes/upgrade.php';
    $result = wp_install('Speakout test', 'wpadmin', 'wpadmin@example.org', true, '', 'not-a-secret');
    foreach (get_posts(['post_type' => 'any', 'post_status' => 'any', 'numberposts' => -1]) as $sample) {
        wp_delete_post($sample->ID, true);  // "Hello world!", its comment and the sample page
    }
    update_option('thread_comments', 1);
    update_option('thread_comments_depth', 10);
    update_option('page_comments', 0);
    out(['user_id' => $result['user_id']]);
    break;

case 'load':
    $data = json_decode(file_get_contents($speakout_argument), true);
    $admin = get_user_by('login', 'wpadmin');
    wp_set_current_user($admin->ID);  // as the import screen runs: an administrator
    $users = [];
    foreach ($data['authors'] as $author) {
        $user_id = wp_insert_user([
            'user_login' => wp_slash($author['login']),
            'user_email' => wp_slash($author['email']),
            'display_name' => wp_slash($author['display_name']),
            'user_pass' => wp_generate_password(),
        ]);
        if (is_wp_error($user_id)) {
            fail('user ' . $author['login'] . ': ' . $user_id->get_error_message());
        }
        $users[$author['id']] = $user_id;
    }
    $posts = [];
    $comments = [];
    foreach ($data['posts'] as $post) {
        $author = $post['creator'] === '' ? $admin->ID : null;
        foreach ($data['authors'] as $candidate) {
            if ($candidate['login'] === $post['creator']) {
                $author = $users[$candidate['id']];
            }
        }
        if ($author === null) {
            fail('post ' . $post['id'] . ': its creator is not in the author list');
        }
        $post_id = wp_insert_post(wp_slash([
            'post_title' => $post['title'],
            'post_content' => $post['content'],
            'post_excerpt' => $post['excerpt'],
            'post_name' => $post['name'],
            'post_status' => $post['status'],
            'post_type' => $post['type'],
            'post_author' => $author,
            'post_date' => $post['date'],
            'post_date_gmt' => $post['date_gmt'],
            'comment_status' => $post['comment_status'],
        ]), true);
        if (is_wp_error($post_id)) {
            fail('post ' . $post['id'] . ': ' . $post_id->get_error_message());
        }
        foreach ($post['meta'] as $key => $value) {
            add_post_meta($post_id, wp_slash($key), wp_slash($value));
        }
        $posts[$post['id']] = $post_id;
        $by_id = $post['comments'];
        ksort($by_id);  // in the order of their ids, as WordPress's importer inserts them
        foreach ($by_id as $old_id => $comment) {
            $parent = (int) $comment['parent'];
            if ($parent && !isset($comments[$parent])) {
                fail("comment $old_id: its parent $parent is not inserted yet");
            }
            $user = (int) $comment['user_id'];
            if ($user && !isset($users[$user])) {
                fail("comment $old_id: user $user is not in the file's author list");
            }
            $new_id = wp_insert_comment(wp_slash([
                'comment_post_ID' => $post_id,
                'comment_author' => $comment['author'],
                'comment_author_email' => $comment['author_email'],
                'comment_author_url' => $comment['author_url'],
                'comment_author_IP' => '',
                'comment_date' => $comment['date'],
                'comment_date_gmt' => $comment['date_gmt'],
                'comment_content' => $comment['content'],
                'comment_approved' => $comment['approved'],
                'comment_type' => $comment['type'],
                'comment_parent' => $parent ? $comments[$parent] : 0,
                'user_id' => $user ? $users[$user] : 0,
            ]));
            if (!$new_id) {
                fail("comment $old_id: wp_insert_comment refused it");
            }
            foreach ($comment['meta'] as $key => $value) {
                add_comment_meta($new_id, wp_slash($key), wp_slash($value));
            }
            $comments[(int) $old_id] = $new_id;
        }
    }
    out(['posts' => $posts, 'comments' => $comments, 'users' => $users]);
    break;

case 'render':
    $post = get_post((int) $speakout_argument);
    setup_postdata($GLOBALS['post'] = $post);
    $list = wp_list_comments(
        ['echo' => false, 'style' => 'ol', 'format' => 'html5', 'max_depth' => 10, 'per_page' => 0],
        get_comments(['post_id' => $post->ID, 'status' => 'approve', 'orderby' => 'comment_ID', 'order' => 'ASC'])
    );
    out([
        'title' => get_the_title($post),
        'content' => apply_filters('the_content', $post->post_content),
        'excerpt' => apply_filters('the_excerpt', $post->post_excerpt),
        'author' => (string) get_the_author_meta('display_name', $post->post_author),
        'comments' => (string) $list,
        'comment_count' => (int) get_comments_number($post),
    ]);
    break;

case 'comments':
    $rows = [];
    foreach (get_comments(['status' => 'all', 'type' => 'all', 'orderby' => 'comment_ID', 'order' => 'ASC']) as $c) {
        $row = (array) $c;
        $row['meta'] = array_map(fn($values) => $values[0], get_comment_meta($c->comment_ID));
        $row['user_login'] = $c->user_id ? get_userdata($c->user_id)->user_login : '';
        $rows[] = $row;
    }
    foreach (['trash', 'spam'] as $status) {
        foreach (get_comments(['status' => $status, 'type' => 'all']) as $c) {
            $known = array_filter($rows, fn($row) => $row['comment_ID'] == $c->comment_ID);
            if (!$known) {
                $row = (array) $c;
                $row['meta'] = array_map(fn($values) => $values[0], get_comment_meta($c->comment_ID));
                $row['user_login'] = $c->user_id ? get_userdata($c->user_id)->user_login : '';
                $rows[] = $row;
            }
        }
    }
    out($rows);
    break;

case 'restore':
    $statuses = [];
    foreach (array_filter(explode(',', $speakout_argument)) as $id) {
        $comment = get_comment((int) $id);
        if ($comment->comment_approved === 'trash') {
            wp_untrash_comment($comment);
        } elseif ($comment->comment_approved === 'spam') {
            wp_unspam_comment($comment);
        }
        $statuses[$id] = get_comment((int) $id)->comment_approved;
    }
    out($statuses);
    break;

case 'is_email':
    $answers = [];
    foreach (json_decode(file_get_contents($speakout_argument), true) as $address) {
        $answers[] = [$address, is_email($address) !== false];
    }
    out($answers);
    break;

case 'export':
    require_once ABSPATH . 'wp-admin/includes/export.php';
    export_wp(['content' => 'all']);
    break;

default:
    fail("unknown action: $speakout_action");
}
