import { Migration } from '@mikro-orm/migrations';

export class Migration20261123000000_notes extends Migration {
  override async up(): Promise<void> {
    this.addSql(
      'create table `notes` (`id` bigint unsigned not null auto_increment primary key, `title` varchar(200) not null, `body` text not null, `created_at` datetime(3) not null, `updated_at` datetime(3) not null) default character set utf8mb4 engine = InnoDB;',
    );
  }

  override async down(): Promise<void> {
    this.addSql('drop table if exists `notes`;');
  }
}
